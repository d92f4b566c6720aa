package dev.compress.evaluation.task;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.exec.Executor;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.calibration.SampleSelection;
import dev.compress.runtime.calibration.TextSamples;
import dev.compress.runtime.text.EncodedBatch;
import dev.compress.runtime.text.SentenceEmbeddings;
import dev.compress.runtime.text.SentenceTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * Runs a {@link TaskSpec} on several variants of one model (variant 0 is the baseline) with the
 * same inputs for all. See {@link TaskKind} for the tasks; the data and metric names:
 *
 * <ul>
 *   <li>{@code embedding-fidelity}: {@code data} one sentence per line ({@link TextSamples}),
 *       {@code samples} spread evenly over it. Tokenized at up to {@value #MAX_TOKENS} tokens, in
 *       batches of sentences of similar length; embeddings are the mask-mean of {@code
 *       last_hidden_state} (else the first rank-3 output), L2-normalized. Metrics: {@code
 *       cosine.mean}, {@code cosine.min} (per sentence, against the baseline), {@code nn.agreement}
 *       (fraction of sentences whose nearest other held-out sentence is the same as under the
 *       baseline) and {@code nn10.overlap} (mean overlap of the 10 nearest).
 *   <li>{@code opinion-sentiment}: {@code data} lines {@code word<TAB>label} ({@code
 *       builtin:opinion-lexicon}: 2,000 words); each word embedded alone; each word's label
 *       predicted by majority of its 10 nearest other words (leave-one-out). Metrics: {@code
 *       sentiment.accuracy} and {@code sentiment.agreement} (same prediction as the baseline).
 *   <li>{@code classification} / {@code logits}: {@link LabelledInputs} fed to the model's single
 *       float input; the first output holds logits {@code (batch, classes)}. Metrics: {@code
 *       top1.accuracy} (needs labels; required for {@code classification}), {@code top1.agreement}
 *       and {@code logits.kl} (mean KL(baseline || model) of the softmax, nats).
 *   <li>{@code perplexity}: on text, the GPTQ/Wanda protocol of {@link StreamPerplexity} (one token
 *       stream from the model's tokenizer, non-overlapping windows of the model length); on token
 *       ids (a {@code .ids} file, one sequence per line, whitespace-separated) each sequence run
 *       alone (batch 1) as {@code input_ids} (plus an all-ones {@code attention_mask} and zero
 *       {@code token_type_ids} when the model takes them). The output {@code logits} (else the
 *       first rank-3 output) {@code (1, T, vocab)} predicts token {@code t+1} at position {@code
 *       t}. Metrics: {@code perplexity} = exp(mean negative log-likelihood over all predicted
 *       tokens), {@code nll.mean}, and against the baseline {@code logits.kl} and {@code
 *       top1.agreement} over positions.
 * </ul>
 */
public final class TaskRunner {
  /** Truncation length for sentence embeddings (sentence-transformers' limit for MiniLM). */
  public static final int MAX_TOKENS = 256;

  /** Neighbours for the sentiment vote. */
  public static final int SENTIMENT_K = 10;

  private TaskRunner() {}

  /**
   * Runs the task.
   *
   * @param variants executors, baseline first; all must take the same inputs
   * @param tokenizer the model's tokenizer.json, required by the text tasks
   * @param feeds the baseline's declared graph inputs (for reshaping classification inputs); may be
   *     empty
   */
  public static TaskOutcome run(
      TaskSpec spec, List<Executor> variants, Optional<Path> tokenizer, List<ValueInfo> feeds)
      throws CompressionException {
    return run(spec, variants, tokenizer, feeds, java.util.OptionalInt.empty());
  }

  /**
   * Runs the task; {@code modelLength} is the perplexity window on text (a decoder's {@code
   * max_position_embeddings}); without it the window is the fixed sequence dimension of {@code
   * input_ids} in {@code feeds}, else {@link StreamPerplexity#DEFAULT_WINDOW}.
   */
  public static TaskOutcome run(
      TaskSpec spec,
      List<Executor> variants,
      Optional<Path> tokenizer,
      List<ValueInfo> feeds,
      java.util.OptionalInt modelLength)
      throws CompressionException {
    if (variants.isEmpty()) {
      throw new IllegalArgumentException("no variants");
    }
    return switch (spec.kind()) {
      case EMBEDDING_FIDELITY -> fidelity(spec, variants, need(tokenizer, spec));
      case OPINION_SENTIMENT -> sentiment(spec, variants, need(tokenizer, spec));
      case CLASSIFICATION, LOGITS -> classification(spec, variants, feeds);
      case PERPLEXITY ->
          spec.data().toLowerCase(java.util.Locale.ROOT).endsWith(".ids")
              ? perplexity(spec, variants, tokenizer)
              : StreamPerplexity.run(
                  spec,
                  variants,
                  need(tokenizer, spec),
                  modelLength.orElse(fixedSequence(feeds).orElse(StreamPerplexity.DEFAULT_WINDOW)));
    };
  }

  /** The fixed sequence length of an {@code input_ids (batch, seq)} feed, if it declares one. */
  private static java.util.OptionalInt fixedSequence(List<ValueInfo> feeds) {
    for (ValueInfo f : feeds) {
      if (f.name().equals("input_ids")
          && f.shape() != null
          && f.shape().size() == 2
          && f.shape().get(1).value() > 1) {
        return java.util.OptionalInt.of((int) f.shape().get(1).value());
      }
    }
    return java.util.OptionalInt.empty();
  }

  private static Path need(Optional<Path> tokenizer, TaskSpec spec) throws ConfigException {
    return tokenizer.orElseThrow(
        () ->
            new ConfigException(
                "task "
                    + spec.kind().id()
                    + " needs the model's tokenizer: <model name>-tokenizer.json or tokenizer.json"
                    + " beside the model, or --tokenizer FILE"));
  }

  /**
   * Inputs drawn from a task's own data, and how they were made.
   *
   * @param batches model inputs by name, one map per forward call
   * @param description one line for the report
   */
  public record SampleInputs(List<Map<String, Tensor>> batches, String description) {
    /** Copies the list. */
    public SampleInputs {
      batches = List.copyOf(batches);
    }
  }

  /** Tokens per text sample in {@link #sampleInputs}. */
  public static final int SAMPLE_TOKENS = 128;

  /**
   * Up to {@code max} samples of the task's data as model inputs (for per-layer errors measured on
   * the user's data): text (sentences, the lexicon's words, perplexity text) spread evenly over the
   * data, each tokenized alone at up to {@value #SAMPLE_TOKENS} tokens (batch 1, so no padding
   * enters the comparison); a {@code .ids} file's first sequences the same way; classification data
   * as its first {@code max} rows in one batch.
   *
   * @param inputNames the model's input names
   * @param feeds the model's declared inputs (for reshaping classification rows)
   */
  public static SampleInputs sampleInputs(
      TaskSpec spec,
      Optional<Path> tokenizer,
      List<String> inputNames,
      List<ValueInfo> feeds,
      int max)
      throws CompressionException {
    String data = spec.data();
    switch (spec.kind()) {
      case CLASSIFICATION, LOGITS -> {
        LabelledInputs d = LabelledInputs.read(data, spec.labels(), "data").first(max);
        if (inputNames.size() != 1) {
          throw new UnsupportedModelException(
              "task "
                  + spec.kind().id()
                  + " needs a model with one float input; it takes "
                  + inputNames);
        }
        String input = inputNames.get(0);
        int width = d.inputs()[0].length;
        long[] shape = rowShape(feeds, input, width);
        shape[0] = d.inputs().length;
        float[] flat = new float[d.inputs().length * width];
        for (int i = 0; i < d.inputs().length; i++) {
          System.arraycopy(d.inputs()[i], 0, flat, i * width, width);
        }
        return new SampleInputs(
            List.of(Map.of(input, Tensor.ofFloats(input, shape, flat))),
            "the first " + d.inputs().length + " samples of " + data + " in one batch");
      }
      default -> {}
    }
    List<String> all = TextSamples.read(data, "data");
    List<String> lines = all.size() <= max ? all : SampleSelection.spread(all, max);
    List<Map<String, Tensor>> out = new ArrayList<>();
    if (spec.kind() == TaskKind.PERPLEXITY
        && data.toLowerCase(java.util.Locale.ROOT).endsWith(".ids")) {
      for (String l : lines) {
        long[] ids;
        try {
          ids =
              java.util.Arrays.stream(l.trim().split("\\s+")).mapToLong(Long::parseLong).toArray();
        } catch (NumberFormatException e) {
          throw new ConfigException("data: " + data + ": not a token id in '" + shorten(l) + "'");
        }
        ids = java.util.Arrays.copyOf(ids, Math.min(ids.length, SAMPLE_TOKENS));
        Map<String, Tensor> in = new LinkedHashMap<>();
        for (String name : inputNames) {
          long[] vals = new long[ids.length];
          if (name.equals("input_ids")) {
            vals = ids;
          } else if (name.equals("attention_mask")) {
            java.util.Arrays.fill(vals, 1);
          }
          in.put(name, Tensor.ofLongs(name, new long[] {1, ids.length}, vals));
        }
        out.add(in);
      }
      return new SampleInputs(
          out,
          lines.size()
              + " sequences of "
              + data
              + " (up to "
              + SAMPLE_TOKENS
              + " tokens, batch 1)");
    }
    Path tok = need(tokenizer, spec);
    try (SentenceTokenizer t = SentenceTokenizer.create(tok, SAMPLE_TOKENS)) {
      for (String l : lines) {
        String text = l;
        if (spec.kind() == TaskKind.OPINION_SENTIMENT && l.lastIndexOf('\t') > 0) {
          text = l.substring(0, l.lastIndexOf('\t')).strip();
        }
        out.add(t.encode(List.of(text)).inputsFor(inputNames));
      }
    }
    return new SampleInputs(
        out,
        lines.size()
            + " samples of "
            + data
            + " spread over it (up to "
            + SAMPLE_TOKENS
            + " tokens each, batch 1)");
  }

  // ---- sentence embeddings ----

  /**
   * Pooled ({@link Pooling#MEAN} or {@link Pooling#CLS}), L2-normalized embeddings of every
   * sentence from every variant.
   */
  static List<float[][]> embed(
      List<Executor> variants, List<String> sentences, Path tokenizer, Pooling pooling)
      throws CompressionException {
    if (pooling == Pooling.NONE) {
      throw new IllegalArgumentException("pooling none gives no sentence vectors");
    }
    List<Integer> order = byLength(sentences);
    List<float[][]> out = new ArrayList<>();
    for (int v = 0; v < variants.size(); v++) {
      out.add(new float[sentences.size()][]);
    }
    int batch = 32;
    try (SentenceTokenizer tok = SentenceTokenizer.create(tokenizer, MAX_TOKENS)) {
      for (int from = 0; from < order.size(); from += batch) {
        List<Integer> idx = order.subList(from, Math.min(order.size(), from + batch));
        EncodedBatch b = tok.encode(idx.stream().map(sentences::get).toList());
        for (int v = 0; v < variants.size(); v++) {
          Executor e = variants.get(v);
          float[][] emb =
              pool(hidden(e.forward(b.inputsFor(e.inputNames()))), b.attentionMask(), pooling);
          for (int i = 0; i < idx.size(); i++) {
            out.get(v)[idx.get(i)] = emb[i];
          }
        }
      }
    }
    return out;
  }

  /** Sentence indexes sorted by length, so batches pad little. */
  private static List<Integer> byLength(List<String> sentences) {
    return IntStream.range(0, sentences.size())
        .boxed()
        .sorted(Comparator.comparingInt(i -> sentences.get(i).length()))
        .toList();
  }

  /**
   * One L2-normalized vector per sentence: the mask-mean of the tokens, or the first token's state.
   *
   * @param hidden f32 {@code (batch, seq, width)}
   * @param mask {@code (batch, seq)}, nonzero for real tokens
   */
  static float[][] pool(Tensor hidden, Tensor mask, Pooling pooling) {
    return switch (pooling) {
      case MEAN -> SentenceEmbeddings.embed(hidden, mask);
      case CLS -> {
        if (hidden.rank() != 3) {
          throw new IllegalArgumentException(
              "expected hidden (batch, seq, width), found " + hidden.shapeString());
        }
        int b = (int) hidden.dim(0);
        int t = (int) hidden.dim(1);
        int w = (int) hidden.dim(2);
        float[] h = hidden.toFloatArray();
        float[][] first = new float[b][];
        for (int i = 0; i < b; i++) {
          first[i] = java.util.Arrays.copyOfRange(h, i * t * w, i * t * w + w);
        }
        yield SentenceEmbeddings.l2Normalize(first);
      }
      case NONE -> throw new IllegalArgumentException("pooling none gives no sentence vectors");
    };
  }

  /** {@code last_hidden_state}, else the first rank-3 f32 output. */
  static Tensor hidden(Map<String, Tensor> outputs) throws CompressionException {
    Tensor t = outputs.get("last_hidden_state");
    if (t != null) {
      return t;
    }
    for (Tensor o : outputs.values()) {
      if (o.rank() == 3 && o.dtype() == DataType.FLOAT) {
        return o;
      }
    }
    throw new UnsupportedModelException(
        "the model has no last_hidden_state or other (batch, seq, width) float output; outputs: "
            + outputs.keySet());
  }

  private static List<String> select(TaskSpec spec, List<String> all) throws ConfigException {
    if (spec.samples() > all.size()) {
      throw new ConfigException(
          "samples: "
              + spec.samples()
              + " requested but "
              + spec.data()
              + " has only "
              + all.size()
              + " samples");
    }
    return SampleSelection.spread(all, spec.samples());
  }

  private static TaskOutcome fidelity(TaskSpec spec, List<Executor> variants, Path tokenizer)
      throws CompressionException {
    List<String> sentences = select(spec, TextSamples.read(spec.data(), "data"));
    if (spec.pooling() == Pooling.NONE) {
      return tokenFidelity(spec, variants, sentences, tokenizer);
    }
    List<float[][]> emb = embed(variants, sentences, tokenizer, spec.pooling());
    int k = Math.min(10, sentences.size() - 1);
    int[][] base1 = sentences.size() > 1 ? Neighbours.nearest(emb.get(0), 1) : null;
    int[][] baseK = sentences.size() > 1 ? Neighbours.nearest(emb.get(0), k) : null;
    List<Map<String, Double>> per = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    for (int v = 0; v < variants.size(); v++) {
      double sum = 0;
      double min = Double.POSITIVE_INFINITY;
      int worst = 0;
      for (int i = 0; i < sentences.size(); i++) {
        double c = SentenceEmbeddings.cosine(emb.get(0)[i], emb.get(v)[i]);
        sum += c;
        if (c < min) {
          min = c;
          worst = i;
        }
      }
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("cosine.mean", sum / sentences.size());
      m.put("cosine.min", min);
      if (base1 != null) {
        m.put("nn.agreement", Neighbours.overlap(base1, Neighbours.nearest(emb.get(v), 1)));
        m.put("nn10.overlap", Neighbours.overlap(baseK, Neighbours.nearest(emb.get(v), k)));
      }
      per.add(m);
      if (v > 0) {
        notes.add(
            "variant "
                + v
                + ": least similar sentence (cosine "
                + String.format(java.util.Locale.ROOT, "%.5f", min)
                + "): \""
                + shorten(sentences.get(worst))
                + "\"");
      }
    }
    notes.add(
        "nn.agreement / nn10.overlap: nearest 1 / "
            + k
            + " other held-out sentences by cosine, compared with the baseline's");
    notes.add(poolingNote(spec.pooling()));
    return new TaskOutcome(
        spec.kind(),
        per,
        Map.of(
            "heldout",
            new DataIdentity(spec.data(), sentences.size(), TextSamples.sha256(sentences))),
        notes,
        Map.of("pooling", spec.pooling().id()));
  }

  private static String poolingNote(Pooling p) {
    return switch (p) {
      case MEAN -> "pooling mean: the mask-mean of the last hidden states, L2-normalized";
      case CLS -> "pooling cls: the first token's last hidden state, L2-normalized";
      case NONE ->
          "pooling none: the cosine of each real token's last hidden state against the"
              + " baseline's (attention mask 1), over all tokens";
    };
  }

  /**
   * {@link Pooling#NONE}: the cosine of every real token's hidden state against the baseline's,
   * {@code cosine.mean} over all real tokens of all sentences and {@code cosine.min} the least.
   */
  private static TaskOutcome tokenFidelity(
      TaskSpec spec, List<Executor> variants, List<String> sentences, Path tokenizer)
      throws CompressionException {
    int nv = variants.size();
    double[] sum = new double[nv];
    double[] min = new double[nv];
    int[] worst = new int[nv];
    java.util.Arrays.fill(min, Double.POSITIVE_INFINITY);
    long tokens = 0;
    List<Integer> order = byLength(sentences);
    try (SentenceTokenizer tok = SentenceTokenizer.create(tokenizer, MAX_TOKENS)) {
      for (int from = 0; from < order.size(); from += 32) {
        List<Integer> idx = order.subList(from, Math.min(order.size(), from + 32));
        EncodedBatch b = tok.encode(idx.stream().map(sentences::get).toList());
        long[] mask = b.attentionMask().toLongArray();
        float[] base = null;
        int t = b.sequenceLength();
        int w = -1;
        for (int v = 0; v < nv; v++) {
          Executor e = variants.get(v);
          Tensor h = hidden(e.forward(b.inputsFor(e.inputNames())));
          float[] x = h.toFloatArray();
          if (v == 0) {
            base = x;
            w = (int) h.dim(2);
          } else if (x.length != base.length) {
            throw new UnsupportedModelException(
                "variant "
                    + v
                    + " has hidden states "
                    + h.shapeString()
                    + ", not the baseline's shape (token-level comparison needs equal widths)");
          }
          for (int i = 0; i < idx.size(); i++) {
            for (int j = 0; j < t; j++) {
              if (mask[i * t + j] == 0) {
                continue;
              }
              int off = (i * t + j) * w;
              double c =
                  SentenceEmbeddings.cosine(
                      java.util.Arrays.copyOfRange(base, off, off + w),
                      java.util.Arrays.copyOfRange(x, off, off + w));
              sum[v] += c;
              if (c < min[v]) {
                min[v] = c;
                worst[v] = idx.get(i);
              }
              if (v == 0) {
                tokens++;
              }
            }
          }
        }
      }
    }
    List<Map<String, Double>> per = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    for (int v = 0; v < nv; v++) {
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("cosine.mean", sum[v] / tokens);
      m.put("cosine.min", min[v]);
      per.add(m);
      if (v > 0) {
        notes.add(
            "variant "
                + v
                + ": least similar token (cosine "
                + String.format(java.util.Locale.ROOT, "%.5f", min[v])
                + ") in \""
                + shorten(sentences.get(worst[v]))
                + "\"");
      }
    }
    notes.add(
        poolingNote(Pooling.NONE)
            + " ("
            + tokens
            + " tokens); nn.agreement and nn10.overlap need one vector per sentence and are not"
            + " computed");
    return new TaskOutcome(
        spec.kind(),
        per,
        Map.of(
            "heldout",
            new DataIdentity(spec.data(), sentences.size(), TextSamples.sha256(sentences))),
        notes,
        Map.of("pooling", Pooling.NONE.id()));
  }

  private static TaskOutcome sentiment(TaskSpec spec, List<Executor> variants, Path tokenizer)
      throws CompressionException {
    List<String> all = TextSamples.read(spec.data(), "data");
    List<String> lines =
        spec.samples() >= all.size() ? all : SampleSelection.spread(all, spec.samples());
    List<String> words = new ArrayList<>();
    List<String> labelNames = new ArrayList<>();
    for (String l : lines) {
      int tab = l.lastIndexOf('\t');
      if (tab <= 0 || tab == l.length() - 1) {
        throw new ConfigException(
            "data: "
                + spec.data()
                + ": expected 'text<TAB>label' lines, found '"
                + shorten(l)
                + "'");
      }
      words.add(l.substring(0, tab).strip());
      labelNames.add(l.substring(tab + 1).strip());
    }
    List<String> classes = List.copyOf(new TreeSet<>(labelNames));
    if (classes.size() < 2 || words.size() <= SENTIMENT_K) {
      throw new ConfigException(
          "data: "
              + spec.data()
              + " needs at least 2 labels and more than "
              + SENTIMENT_K
              + " samples; found "
              + classes
              + ", "
              + words.size());
    }
    int[] labels = labelNames.stream().mapToInt(classes::indexOf).toArray();
    List<float[][]> emb = embed(variants, words, tokenizer, spec.pooling());
    int[] base = Neighbours.predict(emb.get(0), labels, SENTIMENT_K);
    List<Map<String, Double>> per = new ArrayList<>();
    for (float[][] e : emb) {
      int[] pred = Neighbours.predict(e, labels, SENTIMENT_K);
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("sentiment.accuracy", Neighbours.agreement(pred, labels));
      m.put("sentiment.agreement", Neighbours.agreement(pred, base));
      per.add(m);
    }
    return new TaskOutcome(
        spec.kind(),
        per,
        Map.of("lexicon", new DataIdentity(spec.data(), lines.size(), TextSamples.sha256(lines))),
        List.of(
            "sentiment: "
                + SENTIMENT_K
                + "-NN leave-one-out majority vote over "
                + words.size()
                + " words, labels "
                + classes,
            poolingNote(spec.pooling())),
        Map.of("pooling", spec.pooling().id()));
  }

  // ---- classifiers ----

  private static TaskOutcome classification(
      TaskSpec spec, List<Executor> variants, List<ValueInfo> feeds) throws CompressionException {
    LabelledInputs data =
        LabelledInputs.read(spec.data(), spec.labels(), "data").first(spec.samples());
    if (spec.kind() == TaskKind.CLASSIFICATION && data.labels() == null) {
      throw new ConfigException(
          "task classification needs labels: in the data (JSON \"labels\", CSV 'label' column) or"
              + " a labels file (HINT: --labels FILE, or use --task logits)");
    }
    Executor base = variants.get(0);
    if (base.inputNames().size() != 1) {
      throw new UnsupportedModelException(
          "task "
              + spec.kind().id()
              + " needs a model with one float input; it takes "
              + base.inputNames());
    }
    String input = base.inputNames().get(0);
    long[] rowShape = rowShape(feeds, input, data.inputs()[0].length);
    int n = data.inputs().length;
    int[][] pred = new int[variants.size()][n];
    double[] kl = new double[variants.size()];
    int classes = -1;
    for (int from = 0; from < n; from += spec.batchSize()) {
      int b = Math.min(spec.batchSize(), n - from);
      int width = data.inputs()[0].length;
      float[] flat = new float[b * width];
      for (int i = 0; i < b; i++) {
        System.arraycopy(data.inputs()[from + i], 0, flat, i * width, width);
      }
      long[] shape = rowShape.clone();
      shape[0] = b;
      Map<String, Tensor> in = Map.of(input, Tensor.ofFloats(input, shape, flat));
      float[] ref = null;
      for (int v = 0; v < variants.size(); v++) {
        Tensor out = variants.get(v).forward(in).values().iterator().next();
        float[] logits = out.toFloatArray();
        int c = (int) (out.elementCount() / b);
        if (classes < 0) {
          classes = c;
        } else if (c != classes) {
          throw new UnsupportedModelException(
              "variant " + v + " outputs " + c + " logits per sample, the baseline " + classes);
        }
        if (v == 0) {
          ref = logits;
        }
        for (int i = 0; i < b; i++) {
          pred[v][from + i] = LogitMetrics.argmax(logits, i * c, c);
          kl[v] +=
              LogitMetrics.kl(
                  LogitMetrics.logSoftmax(ref, i * c, c),
                  LogitMetrics.logSoftmax(logits, i * c, c));
        }
      }
    }
    List<Map<String, Double>> per = new ArrayList<>();
    for (int v = 0; v < variants.size(); v++) {
      Map<String, Double> m = new LinkedHashMap<>();
      if (data.labels() != null) {
        m.put("top1.accuracy", Neighbours.agreement(pred[v], data.labels()));
      }
      m.put("top1.agreement", Neighbours.agreement(pred[v], pred[0]));
      m.put("logits.kl", kl[v] / n);
      per.add(m);
    }
    return new TaskOutcome(
        spec.kind(),
        per,
        Map.of("inputs", new DataIdentity(spec.data(), n, data.sha256())),
        List.of(
            "logits: first output, "
                + classes
                + " classes; KL(baseline || model) of the softmax, nats, mean over samples"));
  }

  /** {@code [?, dims...]}: the declared fixed dims after the batch, else {@code [?, width]}. */
  private static long[] rowShape(List<ValueInfo> feeds, String input, int width)
      throws UnsupportedModelException {
    for (ValueInfo v : feeds) {
      if (v.name().equals(input) && v.shape() != null && v.shape().size() >= 2) {
        long[] s = new long[v.shape().size()];
        long prod = 1;
        boolean fixed = true;
        for (int d = 1; d < s.length; d++) {
          s[d] = v.shape().get(d).value();
          fixed &= s[d] > 0;
          prod *= s[d];
        }
        if (fixed) {
          if (prod != width) {
            throw new UnsupportedModelException(
                "input "
                    + v.typeString()
                    + " takes "
                    + prod
                    + " values per sample, the data has "
                    + width);
          }
          return s;
        }
      }
    }
    return new long[] {-1, width};
  }

  // ---- language models ----

  private static TaskOutcome perplexity(
      TaskSpec spec, List<Executor> variants, Optional<Path> tokenizer)
      throws CompressionException {
    List<long[]> seqs = new ArrayList<>();
    List<String> lines;
    String data = spec.data();
    if (data.toLowerCase(java.util.Locale.ROOT).endsWith(".ids")) {
      lines = select(spec, TextSamples.read(data, "data"));
      for (String l : lines) {
        try {
          seqs.add(
              java.util.Arrays.stream(l.trim().split("\\s+")).mapToLong(Long::parseLong).toArray());
        } catch (NumberFormatException e) {
          throw new ConfigException("data: " + data + ": not a token id in '" + shorten(l) + "'");
        }
      }
    } else {
      Path tok =
          tokenizer.orElseThrow(
              () ->
                  new ConfigException(
                      "task perplexity on text needs the model's tokenizer.json beside the model"
                          + " (HINT: or give token ids in a .ids file)"));
      lines = select(spec, TextSamples.read(data, "data"));
      try (SentenceTokenizer t = SentenceTokenizer.create(tok, MAX_TOKENS)) {
        for (String l : lines) {
          seqs.add(t.encode(List.of(l)).inputIds().toLongArray());
        }
      }
    }
    Executor base = variants.get(0);
    for (String name : base.inputNames()) {
      if (!List.of("input_ids", "attention_mask", "token_type_ids").contains(name)) {
        throw new UnsupportedModelException(
            "task perplexity feeds input_ids (and attention_mask, token_type_ids); the model also"
                + " wants '"
                + name
                + "'");
      }
    }
    int nv = variants.size();
    double[] nll = new double[nv];
    double[] kl = new double[nv];
    long[] agree = new long[nv];
    long count = 0;
    MessageDigest md = sha();
    for (long[] ids : seqs) {
      md.update((java.util.Arrays.toString(ids) + "\n").getBytes(StandardCharsets.UTF_8));
      if (ids.length < 2) {
        continue;
      }
      int t = ids.length;
      long[] shape = {1, t};
      Map<String, Tensor> in = new LinkedHashMap<>();
      for (String name : base.inputNames()) {
        long[] vals = new long[t];
        if (name.equals("input_ids")) {
          vals = ids;
        } else if (name.equals("attention_mask")) {
          java.util.Arrays.fill(vals, 1);
        }
        in.put(name, Tensor.ofLongs(name, shape, vals));
      }
      float[] ref = null;
      int vocab = -1;
      for (int v = 0; v < nv; v++) {
        Tensor out = logitsOf(variants.get(v).forward(in));
        if (out.dim(0) != 1 || out.dim(1) != t) {
          throw new UnsupportedModelException(
              "perplexity needs logits (1, " + t + ", vocab); found " + out.shapeString());
        }
        int vv = (int) out.dim(2);
        float[] logits = out.toFloatArray();
        if (v == 0) {
          ref = logits;
          vocab = vv;
        } else if (vv != vocab) {
          throw new UnsupportedModelException(
              "variant " + v + " has vocabulary " + vv + ", the baseline " + vocab);
        }
        for (int p = 0; p < t - 1; p++) {
          double[] lp = LogitMetrics.logSoftmax(logits, p * vv, vv);
          long target = ids[p + 1];
          if (target < 0 || target >= vv) {
            throw new ConfigException(
                "data: token id " + target + " is outside the vocabulary of " + vv);
          }
          nll[v] -= lp[(int) target];
          if (v > 0) {
            kl[v] += LogitMetrics.kl(LogitMetrics.logSoftmax(ref, p * vv, vv), lp);
          }
          agree[v] +=
              LogitMetrics.argmax(logits, p * vv, vv) == LogitMetrics.argmax(ref, p * vv, vv)
                  ? 1
                  : 0;
        }
      }
      count += t - 1;
    }
    if (count == 0) {
      throw new ConfigException("data: " + data + " has no sequence of 2 or more tokens");
    }
    List<Map<String, Double>> per = new ArrayList<>();
    for (int v = 0; v < nv; v++) {
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("perplexity", Math.exp(nll[v] / count));
      m.put("nll.mean", nll[v] / count);
      m.put("logits.kl", kl[v] / count);
      m.put("top1.agreement", (double) agree[v] / count);
      per.add(m);
    }
    return new TaskOutcome(
        spec.kind(),
        per,
        Map.of(
            "sequences",
            new DataIdentity(data, seqs.size(), HexFormat.of().formatHex(md.digest()))),
        List.of(
            "perplexity over "
                + count
                + " predicted tokens in "
                + seqs.size()
                + " sequences, batch 1"));
  }

  private static Tensor logitsOf(Map<String, Tensor> outputs) throws UnsupportedModelException {
    Tensor t = outputs.get("logits");
    if (t != null) {
      return t;
    }
    for (Tensor o : outputs.values()) {
      if (o.rank() == 3 && o.dtype() == DataType.FLOAT) {
        return o;
      }
    }
    throw new UnsupportedModelException(
        "perplexity needs a 'logits' (batch, seq, vocab) output; outputs: " + outputs.keySet());
  }

  private static MessageDigest sha() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String shorten(String s) {
    return s.length() > 90 ? s.substring(0, 87) + "..." : s;
  }
}
