package dev.compress.quantization.ptq;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Calibration;
import dev.compress.fixtures.Gaussian;
import java.util.List;
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
    GraphBuilder b = GraphBuilder.create("tiny");
    Random r = new Random(seed);
    String x = b.input("x", DataType.FLOAT, "batch", "tokens", dim);
    b.output("y", DataType.FLOAT);
    float[] gamma = new float[dim];
    for (int i = 0; i < dim; i++) {
      gamma[i] = 0.5f + r.nextFloat();
    }
    gamma[1] = 25f; // outlier channels, as in BERT's LayerNorm outputs
    gamma[dim - 3] = -18f;
    String g = b.floats("gamma", new long[] {dim}, gamma);
    String beta = b.initializer(Gaussian.tensor("beta", r, 0.2f, dim));
    String wa = b.initializer(Gaussian.tensor("Wa", r, 0.1f, dim, hidden));
    String ba = b.initializer(Gaussian.tensor("ba", r, 0.1f, hidden));
    String wb = b.initializer(Gaussian.tensor("Wb", r, 0.1f, dim, hidden));
    String w2 = b.initializer(Gaussian.tensor("W2", r, 0.1f, out, hidden));
    String b2 = b.initializer(Gaussian.tensor("b2", r, 0.1f, out));
    if (hidden != dim) {
      throw new IllegalArgumentException("the residual needs hidden == dim");
    }
    String n =
        b.opTo(
            "LayerNormalization",
            NORM,
            List.of(x, g, beta),
            "n",
            Attribute.of("axis", -1L),
            Attribute.of("epsilon", 1e-5f));
    String a0 = b.opTo("MatMul", A, List.of(n, wa), "a0");
    String a = b.opTo("Add", "/a/Add", List.of(a0, ba), "a");
    String bb = b.opTo("MatMul", B, List.of(n, wb), "b");
    String sum = b.opTo("Add", "/sum", List.of(a, bb), "s");
    String res = b.opTo("Add", "/residual", List.of(sum, n), "r");
    String r2 = b.opTo("Reshape", "/flatten", List.of(res, "shape2d"), "r2");
    b.initializer(Tensor.ofLongs("shape2d", new long[] {2}, -1, hidden));
    b.opTo("Gemm", OUT, List.of(r2, w2, b2), "y", Attribute.of("transB", 1L));
    return b.build();
  }

  /** A seeded input {@code [batch, tokens, dim]}. */
  public static Tensor input(long seed, int batch, int tokens, int dim) {
    return Gaussian.tensor("x", seed, batch, tokens, dim);
  }

  /** Calibration: {@code n} batches of seeded inputs ({@link #input} with seeds 100, 101, ...). */
  public static CalibrationSet calibration(int n, int batch, int tokens, int dim) {
    return Calibration.tensors("x", n, 100, batch, tokens, dim);
  }
}
