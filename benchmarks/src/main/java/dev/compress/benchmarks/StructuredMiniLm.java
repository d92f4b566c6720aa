package dev.compress.benchmarks;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.pruning.structured.StructuredPruningConfig;
import dev.compress.pruning.structured.StructuredPruningConfig.Importance;
import dev.compress.pruning.structured.StructuredPruningConfig.Rescale;
import dev.compress.pruning.structured.StructuredPruningPass;
import dev.compress.runtime.calibration.BuiltinTextData;
import dev.compress.runtime.calibration.TextCalibrationLoader;
import dev.compress.runtime.calibration.TextSamples;
import dev.compress.runtime.calibration.TokenizerLocator;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.runtime.text.SentenceEmbeddings;
import dev.compress.runtime.text.SentenceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Structured pruning of all-MiniLM-L6-v2 (FFN neurons + attention heads to a fraction of the
 * encoder's linear FLOPs): parameters, file size, ONNX Runtime latency at batch 1 and 32 x 128
 * tokens (dense and pruned interleaved in one run), held-out mean cosine to the dense embeddings
 * without and with the least-squares rescaling, and the time of each pass. Calibration: 128
 * Moby-Dick sentences; held-out: 200 State of the Union sentences. Args: [kept] [rounds, 0: no
 * latency] [outDir] [variants, comma-separated: weight-norm, weight-norm+ls, fisher, fisher+ls,
 * activation, activation+ls, fluctuation+bias, fluctuation+bias+ls]. The fisher variants score
 * units by unit-mask gradients through the trainer (no labels: the model's own Gaussian output
 * distribution on the last hidden state).
 */
public final class StructuredMiniLm {
  private static final String MODEL = "builtin:all-minilm-l6-v2";

  private StructuredMiniLm() {}

  public static void main(String[] args) throws Exception {
    double kept = args.length > 0 ? Double.parseDouble(args[0]) : 0.6;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    Path dir = Path.of(args.length > 2 ? args[2] : "target/structured-minilm");
    Files.createDirectories(dir);
    Path file = BuiltinModels.resolve(MODEL);
    Path tok = TokenizerLocator.locate(MODEL, file);
    List<Map<String, Tensor>> held = new ArrayList<>();
    List<String> sentences =
        TextSamples.read(BuiltinTextData.HELDOUT_SENTENCES, "heldout").subList(0, 200);
    try (SentenceTokenizer t = SentenceTokenizer.create(tok, 128)) {
      for (int i = 0; i < sentences.size(); i += 32) {
        held.add(t.encode(sentences.subList(i, Math.min(sentences.size(), i + 32))).asMap());
      }
    }
    float[][] ref = embed(file, held);
    ModelGraph dense = OnnxReader.read(file);
    CalibrationSet cal =
        new TextCalibrationLoader()
            .load(
                CalibrationSpec.builder(BuiltinTextData.CALIBRATION_TEXT)
                    .kind("text")
                    .samples(128)
                    .sequenceLength(128)
                    .batchSize(16)
                    .seed(0)
                    .shuffle(true)
                    .build(),
                dense,
                file,
                MODEL);
    Path denseOut = dir.resolve("dense.onnx");
    OnnxWriter.write(dense, denseOut);
    System.out.printf(
        Locale.ROOT, "dense: %d parameters, %d bytes%n", parameters(dense), Files.size(denseOut));
    Object[][] variants = {
      {"weight-norm", Importance.WEIGHT_NORM, Rescale.NONE, false},
      {"weight-norm+ls", Importance.WEIGHT_NORM, Rescale.LEAST_SQUARES, false},
      {"fisher", Importance.FISHER, Rescale.NONE, false},
      {"fisher+ls", Importance.FISHER, Rescale.LEAST_SQUARES, false},
      {"activation", Importance.ACTIVATION, Rescale.NONE, false},
      {"activation+ls", Importance.ACTIVATION, Rescale.LEAST_SQUARES, false},
      {"fluctuation+bias", Importance.FLUCTUATION, Rescale.NONE, true},
      {"fluctuation+bias+ls", Importance.FLUCTUATION, Rescale.LEAST_SQUARES, true},
    };
    List<String> only = args.length > 3 ? List.of(args[3].split(",")) : List.of();
    Path last = null;
    for (Object[] v : variants) {
      if (!only.isEmpty() && !only.contains((String) v[0])) {
        continue;
      }
      ModelGraph m = OnnxReader.read(file);
      StructuredPruningConfig cfg =
          StructuredPruningConfig.builder()
              .budget(StructuredPruningConfig.Budget.FLOPS)
              .kept(kept)
              .importance((Importance) v[1])
              .rescale((Rescale) v[2])
              .biasCompensation((Boolean) v[3])
              .damping(1e-3)
              .removed(Map.of())
              .build();
      long t0 = System.nanoTime();
      PassReport r =
          new StructuredPruningPass(cfg)
              .apply(
                  m, new PassContext(0, Optional.of(cal), Optional.empty(), ProgressListener.NONE));
      double secs = (System.nanoTime() - t0) / 1e9;
      Path out = dir.resolve(v[0] + ".onnx");
      OnnxWriter.write(m, out);
      double[] cos = cosine(embed(out, held), ref);
      System.out.printf(
          Locale.ROOT,
          "%-20s pass %.1f s | heads removed %.0f, neurons removed %.0f, linear flops kept %.3f |"
              + " %d parameters (%.3fx), %d bytes (%.3fx) | held-out cosine mean %.4f min %.4f%n",
          v[0],
          secs,
          r.metrics().get("heads_removed"),
          r.metrics().get("neurons_removed"),
          r.metrics().get("linear_flops_kept_fraction"),
          parameters(m),
          (double) parameters(m) / parameters(dense),
          Files.size(out),
          (double) Files.size(out) / Files.size(denseOut),
          cos[0],
          cos[1]);
      r.metrics().entrySet().stream()
          .filter(e -> e.getKey().contains("/"))
          .sorted(Map.Entry.comparingByKey())
          .forEach(
              e -> System.out.printf(Locale.ROOT, "    %s = %.4f%n", e.getKey(), e.getValue()));
      last = out;
    }
    if (rounds > 0) {
      latency(denseOut, last, 1, 128, rounds);
      latency(denseOut, last, 32, 128, Math.max(5, rounds / 4));
    }
  }

  static long parameters(ModelGraph m) {
    return m.graph().initializers().values().stream().mapToLong(Tensor::elementCount).sum();
  }

  static float[][] embed(Path model, List<Map<String, Tensor>> batches) throws Exception {
    List<float[]> rows = new ArrayList<>();
    try (OrtExecutor ort = OrtExecutor.builder().setModelPath(model).optIntraOpThreads(2).build()) {
      for (Map<String, Tensor> b : batches) {
        Map<String, Tensor> out = ort.forward(b);
        for (float[] e : SentenceEmbeddings.embed(out.get("output_0"), b.get("attention_mask"))) {
          rows.add(e);
        }
      }
    }
    return rows.toArray(new float[0][]);
  }

  static double[] cosine(float[][] e, float[][] ref) {
    double sum = 0;
    double min = 1;
    for (int i = 0; i < e.length; i++) {
      double c = SentenceEmbeddings.cosine(e[i], ref[i]);
      sum += c;
      min = Math.min(min, c);
    }
    return new double[] {sum / e.length, min};
  }

  /** Dense and pruned interleaved round by round, medians and their ratio. */
  static void latency(Path dense, Path pruned, int batch, int seq, int rounds) throws Exception {
    long[] ids = new long[batch * seq];
    long[] ones = new long[batch * seq];
    for (int i = 0; i < ids.length; i++) {
      int p = i % seq;
      ids[i] = p == 0 ? 101 : p == seq - 1 ? 102 : 1000 + (i * 7919L) % 20000;
      ones[i] = 1;
    }
    long[] shape = {batch, seq};
    Map<String, Tensor> in =
        Map.of(
            "input_ids", Tensor.ofLongs("input_ids", shape, ids),
            "attention_mask", Tensor.ofLongs("attention_mask", shape, ones),
            "token_type_ids", Tensor.ofLongs("token_type_ids", shape, new long[ids.length]));
    try (OrtExecutor a = OrtExecutor.builder().setModelPath(dense).optIntraOpThreads(2).build();
        OrtExecutor b = OrtExecutor.builder().setModelPath(pruned).optIntraOpThreads(2).build()) {
      OrtExecutor[] ex = {a, b};
      List<List<Long>> t = List.of(new ArrayList<>(), new ArrayList<>());
      for (int r = 0; r < rounds + 3; r++) {
        for (int k = 0; k < 2; k++) {
          int i = (r + k) % 2;
          long t0 = System.nanoTime();
          ex[i].forward(in);
          if (r >= 3) {
            t.get(i).add(System.nanoTime() - t0);
          }
        }
      }
      double[] med = new double[2];
      for (int i = 0; i < 2; i++) {
        med[i] =
            t.get(i).stream()
                    .mapToLong(Long::longValue)
                    .sorted()
                    .skip(rounds / 2)
                    .findFirst()
                    .orElse(0)
                / 1e6;
      }
      System.out.printf(
          Locale.ROOT,
          "ORT latency batch %d x %d tokens, %d interleaved rounds, median ms: dense %.2f  pruned %.2f"
              + " | pruned/dense %.3fx%n",
          batch,
          seq,
          rounds,
          med[0],
          med[1],
          med[1] / med[0]);
    }
  }
}
