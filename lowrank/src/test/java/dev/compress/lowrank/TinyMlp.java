package dev.compress.lowrank;

import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A two-layer MLP built in code: {@code x[b, 16] -> MatMul W1[16, 24] -> Add b1 -> Relu -> Gemm
 * (W2, b2) -> y[b, 12]}, W2 stored {@code [12, 24]} with {@code transB = 1} or {@code [24, 12]}.
 * Inputs have correlated features of very different scales, so activation-aware methods differ from
 * plain SVD. Break-even ranks: 9.6 (fc1, 24 x 16) and 8.0 (fc2, 12 x 24).
 */
public final class TinyMlp {
  public static final int IN = 16;
  public static final int HIDDEN = 24;
  public static final int OUT = 12;
  public static final String FC1 = "/fc1/MatMul";
  public static final String FC2 = "/fc2/Gemm";

  private TinyMlp() {}

  public static ModelGraph build(long seed, boolean transB) {
    Graph g = new Graph("mlp");
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    Random r = new Random(seed);
    g.inputs()
        .add(
            ValueInfo.tensor(
                "x", DataType.FLOAT, List.of(ValueInfo.Dim.of("batch"), ValueInfo.Dim.of(IN))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    g.putInitializer(gaussian("W1", r, 0.3f, IN, HIDDEN));
    g.putInitializer(gaussian("b1", r, 0.1f, HIDDEN));
    g.putInitializer(
        transB ? gaussian("W2", r, 0.3f, OUT, HIDDEN) : gaussian("W2", r, 0.3f, HIDDEN, OUT));
    g.putInitializer(gaussian("b2", r, 0.1f, OUT));
    g.nodes().add(Node.of(FC1, "MatMul", List.of("x", "W1"), List.of("h0")));
    g.nodes().add(Node.of("/fc1/Add", "Add", List.of("h0", "b1"), List.of("h1")));
    g.nodes().add(Node.of("/relu", "Relu", List.of("h1"), List.of("h2")));
    g.nodes()
        .add(
            Node.of(FC2, "Gemm", List.of("h2", "W2", "b2"), List.of("y"))
                .put(Attribute.of("transB", transB ? 1L : 0L)));
    return m;
  }

  static Tensor gaussian(String name, Random r, float std, long... shape) {
    float[] v = new float[(int) Tensor.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian() * std;
    }
    return Tensor.ofFloats(name, shape, v);
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
