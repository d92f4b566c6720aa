package dev.compress.quantization.ptq;

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
 * A post-LN block built in code, with the structure SmoothQuant and W8A8 care about:
 *
 * <pre>
 *   n = LayerNormalization(x, gamma, beta)           (gamma has a few large "outlier" channels)
 *   a = MatMul(n, Wa) + ba;  b = MatMul(n, Wb)        (two layers share the norm's output)
 *   r = (a + b) + n                                   (the residual also reads n)
 *   y = Gemm(r, W2, b2, transB = 1)
 * </pre>
 */
public final class TinyEncoder {
  public static final String NORM = "/ln/LayerNormalization";
  public static final String A = "/a/MatMul";
  public static final String B = "/b/MatMul";
  public static final String OUT = "/out/Gemm";

  private TinyEncoder() {}

  /** The model: {@code x [batch, tokens, dim] -> y [batch, tokens, out]}, opset 17. */
  public static ModelGraph build(int dim, int hidden, int out, long seed) {
    Graph g = new Graph("tiny");
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    Random r = new Random(seed);
    g.inputs()
        .add(
            ValueInfo.tensor(
                "x",
                DataType.FLOAT,
                List.of(
                    ValueInfo.Dim.of("batch"), ValueInfo.Dim.of("tokens"), ValueInfo.Dim.of(dim))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    float[] gamma = new float[dim];
    for (int i = 0; i < dim; i++) {
      gamma[i] = 0.5f + r.nextFloat();
    }
    gamma[1] = 25f; // outlier channels, as in BERT's LayerNorm outputs
    gamma[dim - 3] = -18f;
    g.putInitializer(Tensor.ofFloats("gamma", new long[] {dim}, gamma));
    g.putInitializer(gaussian("beta", r, 0.2f, dim));
    g.putInitializer(gaussian("Wa", r, 0.1f, dim, hidden));
    g.putInitializer(gaussian("ba", r, 0.1f, hidden));
    g.putInitializer(gaussian("Wb", r, 0.1f, dim, hidden));
    g.putInitializer(gaussian("W2", r, 0.1f, out, hidden));
    g.putInitializer(gaussian("b2", r, 0.1f, out));
    if (hidden != dim) {
      throw new IllegalArgumentException("the residual needs hidden == dim");
    }
    g.nodes()
        .add(
            Node.of(NORM, "LayerNormalization", List.of("x", "gamma", "beta"), List.of("n"))
                .put(Attribute.of("axis", -1L))
                .put(Attribute.of("epsilon", 1e-5f)));
    g.nodes().add(Node.of(A, "MatMul", List.of("n", "Wa"), List.of("a0")));
    g.nodes().add(Node.of("/a/Add", "Add", List.of("a0", "ba"), List.of("a")));
    g.nodes().add(Node.of(B, "MatMul", List.of("n", "Wb"), List.of("b")));
    g.nodes().add(Node.of("/sum", "Add", List.of("a", "b"), List.of("s")));
    g.nodes().add(Node.of("/residual", "Add", List.of("s", "n"), List.of("r")));
    g.nodes().add(Node.of("/flatten", "Reshape", List.of("r", "shape2d"), List.of("r2")));
    g.putInitializer(Tensor.ofLongs("shape2d", new long[] {2}, -1, hidden));
    g.nodes()
        .add(
            Node.of(OUT, "Gemm", List.of("r2", "W2", "b2"), List.of("y"))
                .put(Attribute.of("transB", 1L)));
    return m;
  }

  static Tensor gaussian(String name, Random r, float std, long... shape) {
    float[] v = new float[(int) Tensor.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian() * std;
    }
    return Tensor.ofFloats(name, shape, v);
  }

  /** A seeded input {@code [batch, tokens, dim]}. */
  public static Tensor input(long seed, int batch, int tokens, int dim) {
    return gaussian("x", new Random(seed), 1f, batch, tokens, dim);
  }

  /** Calibration: {@code n} batches of seeded inputs. */
  public static CalibrationSet calibration(int n, int batch, int tokens, int dim) {
    List<Map<String, Tensor>> batches = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      batches.add(Map.of("x", input(100 + i, batch, tokens, dim)));
    }
    return new CalibrationSet(
        batches, new CalibrationIdentity("synthetic", "tensors", n, tokens, 0, false, "-"));
  }
}
