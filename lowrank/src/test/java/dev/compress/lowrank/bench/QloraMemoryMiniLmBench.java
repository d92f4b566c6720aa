package dev.compress.lowrank.bench;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.lowrank.lora.LoraConfig;
import dev.compress.lowrank.lora.LoraPass;
import dev.compress.runtime.calibration.TextCalibrationLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Training memory of LoRA over an fp32 base vs an NF4 base (QLoRA) on all-MiniLM-L6-v2: a few
 * adapter updates on the 36 encoder layers, then the process's peak resident memory ({@code VmHWM},
 * which includes the frozen teacher and the engine) and the base bytes the student holds. Run once
 * per base, each in its own JVM. A benchmark: it never asserts.
 *
 * <p>Run (after the build line of {@link LoraRecoveryMiniLmBench}): {@code java -Xmx6g
 * -Dbench.base=float|nf4 -cp lowrank/target/test-classes:lowrank/target/classes:$(cat
 * lowrank/target/bench.cp) dev.compress.lowrank.bench.QloraMemoryMiniLmBench} ({@code
 * -Dbench.steps=3 -Dbench.batch=8 -Dbench.tokens=64}).
 */
public final class QloraMemoryMiniLmBench {
  private static final String MODEL = "builtin:all-minilm-l6-v2";

  private QloraMemoryMiniLmBench() {}

  public static void main(String[] args) throws Exception {
    LoraConfig.Base base =
        LoraConfig.Base.valueOf(System.getProperty("bench.base", "nf4").toUpperCase());
    int steps = Integer.getInteger("bench.steps", 3);
    int batch = Integer.getInteger("bench.batch", 8);
    int tokens = Integer.getInteger("bench.tokens", 64);
    Path original = BuiltinModels.resolve(MODEL);
    CalibrationSet calibration =
        new TextCalibrationLoader()
            .load(
                new CalibrationSpec(
                    "text", "builtin:calibration-text", 4 * batch, tokens, batch, 0, true, ""),
                OnnxReader.read(original),
                original,
                MODEL);
    ModelGraph teacher = OnnxReader.read(original);
    ModelGraph m = OnnxReader.read(original);
    long rssStart = rssKb("VmRSS");
    LoraConfig c =
        LoraConfig.defaults()
            .withSelection(new LayerSelection(List.of("re:/encoder/.*"), List.of()))
            .withBase(base)
            .withMerge(false)
            .withRank(8, 16)
            .withSchedule(1e-3, steps, batch)
            .withValidation(0, 1);
    long t0 = System.nanoTime();
    PassReport r =
        new LoraPass(c)
            .apply(
                m,
                new PassContext(
                    0, Optional.of(calibration), Optional.of(teacher), ProgressListener.NONE));
    System.out.printf(
        "base %s: %d steps x %d x %d tokens in %.1f s; peak RSS %d MB (%d MB before the pass);"
            + " base bytes float %.0f, nf4 in graph %s, nf4 packed %s%n",
        base.name().toLowerCase(),
        steps,
        batch,
        tokens,
        (System.nanoTime() - t0) / 1e9,
        rssKb("VmHWM") / 1024,
        rssStart / 1024,
        r.metrics().getOrDefault("base_bytes_float", Double.NaN),
        r.metrics().getOrDefault("base_bytes_nf4_in_graph", Double.NaN),
        r.metrics().getOrDefault("base_bytes_nf4_packed", Double.NaN));
  }

  private static long rssKb(String key) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(key + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}
