package dev.compress.pruning;

import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Gaussian;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded test data for the calibrated pruning passes: a stack of residual MLP blocks ({@code h +
 * Relu(h W_up) W_down}, node names {@code /layer.i/...}) and inputs whose features are correlated
 * ({@code x = z A}, {@code z} standard normal), the case second-order pruning is for.
 */
public final class TinyBlocks {
  private TinyBlocks() {}

  /**
   * Blocks of width {@code d} with hidden width {@code 2d}; {@code x [b, t, d]} in, {@code y} out.
   */
  public static ModelGraph build(int blocks, int d, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Graph g = new Graph("tiny-blocks");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, null));
    String h = "x";
    for (int i = 0; i < blocks; i++) {
      String p = "/layer." + i;
      g.putInitializer(matrix(p + "/up.weight", d, 2 * d, rnd));
      g.putInitializer(matrix(p + "/down.weight", 2 * d, d, rnd));
      g.nodes()
          .add(
              Node.of(p + "/up/MatMul", "MatMul", List.of(h, p + "/up.weight"), List.of(p + "/u")));
      g.nodes().add(Node.of(p + "/Relu", "Relu", List.of(p + "/u"), List.of(p + "/r")));
      g.nodes()
          .add(
              Node.of(
                  p + "/down/MatMul",
                  "MatMul",
                  List.of(p + "/r", p + "/down.weight"),
                  List.of(p + "/o")));
      String next = i == blocks - 1 ? "y" : p + "/h";
      g.nodes().add(Node.of(p + "/Residual", "Add", List.of(h, p + "/o"), List.of(next)));
      h = next;
    }
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    return m;
  }

  /**
   * A {@code (rows, cols)} gaussian matrix scaled by {@code 1/sqrt(rows)} ({@link
   * Gaussian#boxMuller(SplittableRandom, double, int)}).
   */
  public static Tensor matrix(String name, int rows, int cols, SplittableRandom rnd) {
    return Tensor.ofFloats(
        name, new long[] {rows, cols}, Gaussian.boxMuller(rnd, 1.0 / Math.sqrt(rows), rows * cols));
  }

  /**
   * {@code rows} correlated inputs of {@code d} features, row-major: {@code z A}, A mixing, with
   * log-normal feature scales (a few features much larger, as in transformer activations); the
   * mixing and scales are the same for every seed, {@code seed} draws {@code z}.
   */
  public static float[] correlated(int rows, int d, long seed) {
    SplittableRandom rnd = new SplittableRandom(12345); // one mixing for every draw
    double[] a = new double[d * d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        a[i * d + j] = (i == j ? 1 : 0) + 1.5 * Gaussian.boxMuller(rnd) / Math.sqrt(d);
      }
    }
    for (int j = 0; j < d; j++) {
      double scale = Math.exp(Gaussian.boxMuller(rnd));
      for (int i = 0; i < d; i++) {
        a[i * d + j] *= scale;
      }
    }
    rnd = new SplittableRandom(seed);
    float[] x = new float[rows * d];
    double[] z = new double[d];
    for (int r = 0; r < rows; r++) {
      for (int k = 0; k < d; k++) {
        z[k] = Gaussian.boxMuller(rnd);
      }
      for (int j = 0; j < d; j++) {
        double s = 0;
        for (int k = 0; k < d; k++) {
          s += z[k] * a[k * d + j];
        }
        x[r * d + j] = (float) s;
      }
    }
    return x;
  }

  /** {@code batches} batches of {@code b x t} correlated tokens, {@code d} features each. */
  public static CalibrationSet calibration(int batches, int b, int t, int d, long seed) {
    List<Map<String, Tensor>> out = new ArrayList<>();
    for (int k = 0; k < batches; k++) {
      float[] x = correlated(b * t, d, seed + k);
      out.add(Map.of("x", Tensor.ofFloats("x", new long[] {b, t, d}, x)));
    }
    return new CalibrationSet(
        out, new CalibrationIdentity("tiny-blocks", "tensor", batches * b, t, seed, false, ""));
  }
}
