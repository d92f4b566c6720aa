package dev.compress.quantization.gptq;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.ptq.StaticPtqConfig;
import dev.compress.quantization.ptq.StaticPtqPass;
import dev.compress.quantization.qat.QatConfig;
import dev.compress.quantization.qat.QatPass;
import dev.compress.quantization.qat.StepSize;
import dev.compress.quantization.rtn.RtnConfig;
import dev.compress.quantization.rtn.RtnPass;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * QAT on all-MiniLM-L6-v2 against the post-training passes at the same format: held-out embedding
 * cosine to fp32 (mean and min over the held-out sentences, run in ONNX Runtime, as {@link
 * GptqMiniLmTest}), QAT's steps and wall time. A benchmark: it prints, never asserts; each variant
 * is one run of at most a few minutes on 2 cores.
 *
 * <p>Run (from the repository root):
 *
 * <pre>
 * ./mvnw -q -B -pl quantization -am test-compile dependency:build-classpath \
 *   -Dmdep.outputFile=/tmp/qat-cp.txt -Dmdep.includeScope=test -Dspotless.check.skip=true
 * DJL_CACHE_DIR=quantization/target/djl-cache PYTORCH_PRECXX11=false java -Xmx6g \
 *   --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Dai.djl.offline=true \
 *   -cp quantization/target/test-classes:quantization/target/classes:$(cat /tmp/qat-cp.txt) \
 *   dev.compress.quantization.gptq.QatMiniLmBench VARIANTS HELDOUT SAMPLES STEPS LR BATCH TOKENS
 * </pre>
 *
 * <p>Measured (200 held-out sentences, 2 shared cores under load 10-16): {@code rtn4} 0.95266 /
 * 0.89657; {@code qat4 200 64 24 1e-4 8 64} 0.96640 / 0.92000 (24 updates, 288 s: teacher 24 s,
 * training 256 s); {@code qat4 200 128 2 1e-5 16 128} 0.95632 / 0.90484; {@code ptq8,qat8 200 64 16
 * 2e-5 8 64}: ptq8 0.99328 / 0.98477 (22 s), qat8 0.99412 / 0.98637 (16 updates, 284 s). </pre>
 *
 * VARIANTS is a comma-separated list of {@code rtn4} (RTN W4 g128 asymmetric), {@code gptq4} (GPTQ
 * W4 g128 asymmetric act-order), {@code qat4} (QAT W4 g128 asymmetric from the RTN grid, LSQ step
 * sizes), {@code qat4-fixed} (the same with fixed step sizes), {@code ptq8} (static W8A8, mse
 * observer) and {@code qat8} (W8A8 QAT from the same ranges); defaults {@code rtn4,gptq4,qat4 200
 * 128 100 1e-5 8 64} (TOKENS: calibration sequence length).
 */
public final class QatMiniLmBench {
  private QatMiniLmBench() {}

  public static void main(String[] args) throws Exception {
    List<String> variants =
        Arrays.asList((args.length > 0 ? args[0] : "rtn4,gptq4,qat4").split(","));
    int heldout = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    int samples = args.length > 2 ? Integer.parseInt(args[2]) : 128;
    int steps = args.length > 3 ? Integer.parseInt(args[3]) : 100;
    double lr = args.length > 4 ? Double.parseDouble(args[4]) : 1e-5;
    int batch = args.length > 5 ? Integer.parseInt(args[5]) : 8;
    int tokens = args.length > 6 ? Integer.parseInt(args[6]) : 64;
    System.out.printf(
        "[qat-minilm] %d held-out sentences, %d calibration samples of %d tokens, %d steps, lr %.2g,"
            + " batch %d, %d cores%n",
        heldout, samples, tokens, steps, lr, batch, Runtime.getRuntime().availableProcessors());
    MiniLmFixture fx = new MiniLmFixture(heldout);
    Path dir = Files.createTempDirectory("qat-minilm");
    for (String v : variants) {
      ModelGraph m = fx.read();
      CalibrationSet cal = fx.calibration(m, samples, tokens);
      PassContext ctx =
          new PassContext(0, Optional.of(cal), Optional.of(fx.read()), progress(System.nanoTime()));
      long t0 = System.nanoTime();
      PassReport r = pass(v, steps, lr, batch).apply(m, ctx);
      double seconds = (System.nanoTime() - t0) / 1e9;
      double[] f = fx.fidelity(m, dir, v);
      System.out.printf(
          "[qat-minilm] %-10s cosine mean %.5f min %.5f  pass %.0f s%s%n",
          v,
          f[0],
          f[1],
          seconds,
          r.metrics().containsKey("steps")
              ? String.format(
                  "  (steps %.0f, train %.0f s, teacher %.0f s, validation loss %.3g -> %.3g at"
                      + " step %.0f)",
                  r.metrics().get("steps"),
                  r.metrics().get("train_seconds"),
                  r.metrics().get("teacher_seconds"),
                  r.metrics().get("validation_loss_before"),
                  r.metrics().get("validation_loss_best"),
                  r.metrics().get("best_step"))
              : "");
    }
  }

  /** Prints every fifth step of a task with the seconds since {@code t0} (stderr). */
  private static ProgressListener progress(long t0) {
    return new ProgressListener() {
      @Override
      public void step(String task, int done, int total, String item) {
        if (done % 5 == 0 || done == total) {
          System.err.printf(
              "[qat-minilm]   %s %d/%d %s (%.0f s)%n",
              task, done, total, item, (System.nanoTime() - t0) / 1e9);
        }
      }
    };
  }

  private static Pass<?> pass(String v, int steps, double lr, int batch) {
    QatConfig.Builder q4 =
        QatConfig.builder()
            .weights(4, 128, false)
            .schedule(lr, steps)
            .batchSize(batch)
            .validation(0.1, Math.max(1, steps / 5));
    QatConfig.Builder q8 =
        QatConfig.builder()
            .weights(8, 0, true)
            .activations(true, false, "mse")
            .schedule(lr, steps)
            .batchSize(batch)
            .validation(0.1, Math.max(1, steps / 5));
    return switch (v) {
      case "rtn4" ->
          new RtnPass(new RtnConfig(LayerSelection.ALL, 4, Granularity.PER_GROUP, 128, false));
      case "gptq4" ->
          new GptqPass(GptqConfig.defaults().withOrder(true, false).withSymmetric(false));
      case "qat4" -> new QatPass(q4.build());
      case "qat4-fixed" -> new QatPass(q4.stepSize(StepSize.FIXED).build());
      case "ptq8" ->
          new StaticPtqPass(new StaticPtqConfig(null, "mse", 99.999, 0.01, false, false));
      case "qat8" -> new QatPass(q8.build());
      default -> throw new IllegalArgumentException("unknown variant " + v);
    };
  }
}
