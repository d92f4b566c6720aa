package dev.compress.evaluation;

import ai.onnxruntime.OrtEnvironment;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.pipeline.EvaluateSpec;
import dev.compress.api.pipeline.Evaluator;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.evaluation.gate.Gate;
import dev.compress.evaluation.gate.Gates;
import dev.compress.evaluation.latency.InterleavedLatency;
import dev.compress.evaluation.size.OnnxFileSize;
import dev.compress.runtime.calibration.SampleSelection;
import dev.compress.runtime.calibration.TextSamples;
import dev.compress.runtime.calibration.TokenizerLocator;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.runtime.text.EncodedBatch;
import dev.compress.runtime.text.SentenceEmbeddings;
import dev.compress.runtime.text.SentenceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The {@code embedding-fidelity} evaluation of a sentence encoder: how close the compressed model's
 * sentence embeddings stay to the original's on held-out sentences, and what it gains in latency
 * and bytes on disk, both models measured in this process with ONNX Runtime.
 *
 * <h2>What is measured</h2>
 *
 * <ul>
 *   <li><b>Fidelity.</b> {@code samples} sentences of {@code data} (a UTF-8 file, one sentence per
 *       line, or {@code builtin:heldout-sentences}), spread evenly over the source ({@link
 *       SampleSelection#spread}), tokenized with the model's tokenizer ({@link TokenizerLocator})
 *       at up to {@value #FIDELITY_MAX_TOKENS} tokens (sentence-transformers' limit for
 *       all-MiniLM-L6-v2), in batches of {@value #FIDELITY_BATCH} sentences of similar length
 *       (sorted by characters, so little compute goes to padding), each padded to its longest. Each
 *       model's {@code last_hidden_state} (else its first rank-3 f32 output) is mean-pooled over
 *       the attention mask and L2-normalized ({@link SentenceEmbeddings}); the per-sentence cosine
 *       between original and compressed gives {@code cosine.mean} and {@code cosine.min}.
 *   <li><b>Latency</b>, for each batch size {@code B} of {@code latencyBatchSizes}: B held-out
 *       sentences padded or truncated to exactly {@code sequenceLength} tokens, fed to both models
 *       through {@link OrtExecutor} (all graph optimizations, the same intra-op thread count for
 *       both); {@link #warmupRuns} untimed runs each, then {@code iterations} timed runs each, the
 *       two models interleaved ({@link InterleavedLatency}). Reported: p50 and p90 per model and
 *       {@code latency.bB.ratio} = compressed p50 / original p50 (below 1 is faster). Times are of
 *       whole {@code forward} calls, which include copying inputs in and outputs out (the same for
 *       both models).
 *   <li><b>Size</b>: bytes of each ONNX file plus its external-data files ({@link OnnxFileSize}),
 *       and their ratio.
 * </ul>
 *
 * <p>Gates ({@code evaluate.gates}) are parsed before anything runs: an unknown metric or a
 * malformed bound is a {@link ConfigException} naming {@code evaluate.gates.METRIC}. Registered as
 * an {@link Evaluator} service; instances are stateless and may be reused.
 */
public final class EmbeddingFidelityEvaluator implements Evaluator {
  /** The task name this evaluator implements. */
  public static final String TASK = "embedding-fidelity";

  /** Sentences per batch for the fidelity pass. */
  public static final int FIDELITY_BATCH = 32;

  /** Truncation length for the fidelity pass. */
  public static final int FIDELITY_MAX_TOKENS = 256;

  private final int intraOpThreads;

  /** Uses one ONNX Runtime intra-op thread per available processor. */
  public EmbeddingFidelityEvaluator() {
    this(Runtime.getRuntime().availableProcessors());
  }

  /**
   * Uses a fixed ONNX Runtime intra-op thread count for both models.
   *
   * @param intraOpThreads threads per session (> 0)
   */
  public EmbeddingFidelityEvaluator(int intraOpThreads) {
    if (intraOpThreads <= 0) {
      throw new IllegalArgumentException("intraOpThreads must be > 0, found " + intraOpThreads);
    }
    this.intraOpThreads = intraOpThreads;
  }

  /** The intra-op thread count each ONNX Runtime session uses. */
  public int intraOpThreads() {
    return intraOpThreads;
  }

  /** Untimed runs of each model before timing: {@code max(2, iterations / 10)}. */
  public static int warmupRuns(int iterations) {
    return Math.max(2, iterations / 10);
  }

  /** The metrics an evaluation of {@code spec} produces, in report order (gate-able names). */
  public static List<String> metricNames(EvaluateSpec spec) {
    List<String> m = new ArrayList<>(List.of("cosine.mean", "cosine.min"));
    for (int b : batchSizes(spec)) {
      String p = "latency.b" + b + ".";
      m.addAll(
          List.of(
              p + "original.p50_ms",
              p + "original.p90_ms",
              p + "compressed.p50_ms",
              p + "compressed.p90_ms",
              p + "ratio"));
    }
    if (!spec.latencyBatchSizes().isEmpty()) {
      m.add("latency.intra_op_threads");
    }
    m.addAll(List.of("size.original_bytes", "size.compressed_bytes", "size.ratio"));
    return List.copyOf(m);
  }

  /**
   * Checks {@code spec} without running anything: the task, the gates, and the sequence length.
   *
   * @return the parsed gates
   * @throws ConfigException listing every problem
   */
  public static List<Gate> validate(EvaluateSpec spec) throws ConfigException {
    List<String> problems = new ArrayList<>();
    if (!TASK.equals(spec.task())) {
      problems.add("evaluate.task: " + TASK + " evaluator cannot run task " + spec.task());
    }
    if (!spec.latencyBatchSizes().isEmpty() && spec.sequenceLength() < 2) {
      problems.add(
          "evaluate.sequenceLength must be >= 2 for latency runs ([CLS] and [SEP] take two"
              + " tokens), found "
              + spec.sequenceLength());
    }
    List<Gate> gates = List.of();
    try {
      gates = Gates.parse(spec.gates(), metricNames(spec));
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return gates;
  }

  @Override
  public EvaluationResult evaluate(
      EvaluateSpec spec, Path original, Path compressed, String modelSpec)
      throws CompressionException {
    List<Gate> gates = validate(spec);
    for (Path p : List.of(original, compressed)) {
      if (!Files.isRegularFile(p)) {
        throw new CompressionException("cannot evaluate: model file " + p + " does not exist");
      }
    }
    List<String> all = TextSamples.read(spec.data(), "evaluate.data");
    if (spec.samples() > all.size()) {
      throw new ConfigException(
          "evaluate.samples: "
              + spec.samples()
              + " requested but "
              + spec.data()
              + " has only "
              + all.size()
              + " samples");
    }
    List<String> sentences = SampleSelection.spread(all, spec.samples());
    Path tokenizerFile = TokenizerLocator.locate(modelSpec, original);

    Map<String, Double> metrics = new LinkedHashMap<>();
    FidelityTable table = new FidelityTable();
    try (OrtExecutor a = session(original);
        OrtExecutor b = session(compressed)) {
      if (!a.inputNames().equals(b.inputNames())) {
        throw new CompressionException(
            "cannot compare the models: the compressed model's inputs "
                + b.inputNames()
                + " differ from the original's "
                + a.inputNames());
      }
      fidelity(a, b, sentences, tokenizerFile, metrics, table);
      if (!spec.latencyBatchSizes().isEmpty()) {
        latency(a, b, spec, sentences, tokenizerFile, metrics, table);
      }
    }
    OnnxFileSize.Sizes so = OnnxFileSize.of(original);
    OnnxFileSize.Sizes sc = OnnxFileSize.of(compressed);
    metrics.put("size.original_bytes", (double) so.bytes());
    metrics.put("size.compressed_bytes", (double) sc.bytes());
    metrics.put("size.ratio", (double) sc.bytes() / so.bytes());
    table.size(so.bytes(), sc.bytes());

    String sha = TextSamples.sha256(sentences);
    Map<String, String> identity = new LinkedHashMap<>();
    identity.put("heldout.source", spec.data());
    identity.put("heldout.count", Integer.toString(sentences.size()));
    identity.put("heldout.sha256", sha);
    List<String> failures = Gates.failures(gates, metrics);
    String header =
        "embedding fidelity on "
            + spec.data()
            + ": "
            + sentences.size()
            + " sentences, sha256 "
            + sha.substring(0, 12);
    String footer =
        spec.latencyBatchSizes().isEmpty()
            ? ""
            : "latency: ONNX Runtime "
                + OrtEnvironment.getEnvironment().getVersion()
                + " on CPU, "
                + intraOpThreads
                + " intra-op threads per model, "
                + spec.sequenceLength()
                + " tokens per sentence, "
                + warmupRuns(spec.iterations())
                + " warm-up + "
                + spec.iterations()
                + " timed runs per model, interleaved";
    return new EvaluationResult(
        metrics, identity, table.render(header, footer, gates, failures), failures);
  }

  private OrtExecutor session(Path model) throws CompressionException {
    return OrtExecutor.builder().setModelPath(model).optIntraOpThreads(intraOpThreads).build();
  }

  private static void fidelity(
      OrtExecutor a,
      OrtExecutor b,
      List<String> sentences,
      Path tokenizerFile,
      Map<String, Double> metrics,
      FidelityTable table)
      throws CompressionException {
    // Batches of similar length waste little compute on padding; per-sentence cosines do not
    // depend on batch composition (padding is masked out of the attention and the pooling).
    List<Integer> order =
        IntStream.range(0, sentences.size())
            .boxed()
            .sorted(Comparator.comparingInt(i -> sentences.get(i).length()))
            .toList();
    double sum = 0;
    double min = Double.POSITIVE_INFINITY;
    int worst = -1;
    try (SentenceTokenizer tok = SentenceTokenizer.create(tokenizerFile, FIDELITY_MAX_TOKENS)) {
      for (int from = 0; from < order.size(); from += FIDELITY_BATCH) {
        List<Integer> idx = order.subList(from, Math.min(order.size(), from + FIDELITY_BATCH));
        EncodedBatch batch = tok.encode(idx.stream().map(sentences::get).toList());
        Map<String, Tensor> in = batch.inputsFor(a.inputNames());
        float[][] ea = SentenceEmbeddings.embed(hidden(a.forward(in)), batch.attentionMask());
        float[][] eb = SentenceEmbeddings.embed(hidden(b.forward(in)), batch.attentionMask());
        for (int i = 0; i < idx.size(); i++) {
          double c = SentenceEmbeddings.cosine(ea[i], eb[i]);
          sum += c;
          if (c < min) {
            min = c;
            worst = idx.get(i);
          }
        }
      }
    }
    double mean = sum / sentences.size();
    metrics.put("cosine.mean", mean);
    metrics.put("cosine.min", min);
    table.cosine(mean, min, sentences.get(worst));
  }

  private void latency(
      OrtExecutor a,
      OrtExecutor b,
      EvaluateSpec spec,
      List<String> sentences,
      Path tokenizerFile,
      Map<String, Double> metrics,
      FidelityTable table)
      throws CompressionException {
    try (SentenceTokenizer tok =
        SentenceTokenizer.createFixed(tokenizerFile, spec.sequenceLength())) {
      for (int bs : batchSizes(spec)) {
        List<String> batch = new ArrayList<>(bs);
        for (int i = 0; i < bs; i++) {
          batch.add(sentences.get(i % sentences.size()));
        }
        Map<String, Tensor> in = tok.encode(batch).inputsFor(a.inputNames());
        InterleavedLatency.Result r =
            InterleavedLatency.measure(
                () -> a.forward(in),
                () -> b.forward(in),
                warmupRuns(spec.iterations()),
                spec.iterations());
        String p = "latency.b" + bs + ".";
        metrics.put(p + "original.p50_ms", r.a().p50Ms());
        metrics.put(p + "original.p90_ms", r.a().p90Ms());
        metrics.put(p + "compressed.p50_ms", r.b().p50Ms());
        metrics.put(p + "compressed.p90_ms", r.b().p90Ms());
        metrics.put(p + "ratio", r.p50Ratio());
        table.latency(bs, r);
      }
    }
    metrics.put("latency.intra_op_threads", (double) intraOpThreads);
  }

  /** {@code last_hidden_state}, else the first f32 output of rank 3. */
  private static Tensor hidden(Map<String, Tensor> outputs) throws CompressionException {
    Tensor t = outputs.get("last_hidden_state");
    if (t != null) {
      return t;
    }
    for (Tensor o : outputs.values()) {
      if (o.rank() == 3 && o.dtype() == DataType.FLOAT) {
        return o;
      }
    }
    throw new CompressionException(
        "embedding-fidelity needs token embeddings (an f32 output of shape (batch, sequence,"
            + " width), e.g. last_hidden_state); the model's outputs are "
            + outputs.keySet());
  }

  private static List<Integer> batchSizes(EvaluateSpec spec) {
    return List.copyOf(new LinkedHashSet<>(spec.latencyBatchSizes()));
  }
}
