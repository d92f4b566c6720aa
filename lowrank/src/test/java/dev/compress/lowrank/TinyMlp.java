package dev.compress.lowrank;

import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.TinyModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The lowrank tests' sizes of the shared MLP fixture ({@link TinyModels#mlp}): {@code x[b, 16] ->
 * MatMul W1[16, 24] -> Add b1 -> Relu -> Gemm (W2, b2) -> y[b, 12]}, W2 stored {@code [12, 24]}
 * with {@code transB = 1} or {@code [24, 12]}. Inputs have correlated features of very different
 * scales, so activation-aware methods differ from plain SVD. Break-even ranks: 9.6 (fc1, 24 x 16)
 * and 8.0 (fc2, 12 x 24).
 */
public final class TinyMlp {
  public static final int IN = 16;
  public static final int HIDDEN = 24;
  public static final int OUT = 12;
  public static final String FC1 = TinyModels.MLP_FC1;
  public static final String FC2 = TinyModels.MLP_FC2;

  private TinyMlp() {}

  /** The shared {@link TinyModels#mlp} at these sizes, weights drawn with std 0.3. */
  public static ModelGraph build(long seed, boolean transB) {
    return TinyModels.mlp(17, IN, HIDDEN, OUT, seed, transB, 0.3f, 0.3f);
  }

  /** A seeded batch {@code [rows, 16]}: feature j scaled by 1 + j % 5, plus a shared component. */
  public static Tensor input(long seed, int rows) {
    Random r = new Random(seed);
    float[] v = new float[rows * IN];
    for (int t = 0; t < rows; t++) {
      double common = r.nextGaussian();
      for (int j = 0; j < IN; j++) {
        v[t * IN + j] = (float) ((1 + j % 5) * (r.nextGaussian() + 0.7 * common));
      }
    }
    return Tensor.ofFloats("x", new long[] {rows, IN}, v);
  }

  public static CalibrationSet calibration() {
    List<Map<String, Tensor>> batches = new ArrayList<>();
    for (int b = 0; b < 4; b++) {
      batches.add(Map.of("x", input(100 + b, 32)));
    }
    return new CalibrationSet(
        batches, new CalibrationIdentity("test", "tensors", 128, 1, 0, false, "-"));
  }
}
