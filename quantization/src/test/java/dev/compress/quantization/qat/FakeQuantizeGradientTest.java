package dev.compress.quantization.qat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.training.GradientRecording;
import dev.compress.training.Parameter;
import dev.compress.training.ParameterSelection;
import dev.compress.training.TensorNd;
import dev.compress.training.TrainableFactory;
import dev.compress.training.TrainableModel;
import dev.compress.training.quant.FakeQuantizeOp;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The FakeQuantize operator as the trainable interpreter runs it, on a {@code [4, 3]} weight in
 * blocks of 2 along axis 0 (scales {@code [2, 3]}), 4-bit asymmetric codes {@code [0, 15]}: {@code
 * loss = sum(FakeQuantize(W) * U)}, so {@code dL/dW = U * dY/dW} and {@code dL/ds} sums {@code U *
 * dY/ds} over each block. Expected values are computed here from the formulas of Esser et al. 2020,
 * independently of the operator's implementation.
 */
class FakeQuantizeGradientTest {
  private static final int K = 4;
  private static final int N = 3;
  private static final int BLOCK = 2;
  private static final int QMAX = 15;
  private static final float GRAD_SCALE = 0.125f;

  // Values chosen inside the range, below it and above it (scale 0.1, zero 8: [-0.8, 0.7]).
  private static final float[] W = {
    0.03f, -0.26f, 0.91f, //
    -1.37f, 0.44f, 0.12f, //
    0.66f, 2.5f, -0.05f, //
    -0.79f, 0.21f, -0.9f
  };
  private static final float[] S = {0.1f, 0.1f, 0.1f, 0.12f, 0.09f, 0.1f};
  private static final float[] Z = {8, 8, 7, 8, 9, 8};

  private static ModelGraph graph() {
    Graph g = new Graph("fq");
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    m.opsetImports().put(FakeQuantizeOp.DOMAIN, 1L);
    g.inputs()
        .add(
            ValueInfo.tensor(
                "u", DataType.FLOAT, List.of(ValueInfo.Dim.of(K), ValueInfo.Dim.of(N))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    g.putInitializer(Tensor.ofFloats("W", new long[] {K, N}, W));
    g.putInitializer(Tensor.ofFloats("S", new long[] {K / BLOCK, N}, S));
    g.putInitializer(Tensor.ofFloats("Z", new long[] {K / BLOCK, N}, Z));
    Node fq =
        Node.of("/fq", FakeQuantizeOp.OP_TYPE, List.of("W", "S", "Z"), List.of("wq"))
            .put(Attribute.of("axis", 0L))
            .put(Attribute.of("block_size", (long) BLOCK))
            .put(Attribute.of("qmin", 0L))
            .put(Attribute.of("qmax", (long) QMAX))
            .put(Attribute.of("grad_scale", GRAD_SCALE));
    fq.setDomain(FakeQuantizeOp.DOMAIN);
    g.nodes().add(fq);
    g.nodes().add(Node.of("/mul", "Mul", List.of("wq", "u"), List.of("y")));
    return m;
  }

  private static float[] u() {
    Random r = new Random(5);
    float[] u = new float[K * N];
    for (int i = 0; i < u.length; i++) {
      u[i] = (float) r.nextGaussian();
    }
    return u;
  }

  /** Runs the forward and backward; returns {y, dW, dS}. */
  private static float[][] run(boolean trainScale) throws Exception {
    List<String> params = trainScale ? List.of("W", "S") : List.of("W");
    float[] u = u();
    try (TrainableModel m =
        TrainableFactory.installedDefault()
            .create(graph(), ParameterSelection.initializers(params), Device.CPU)) {
      float[] y;
      try (NDManager nd = m.newManager()) {
        NDArray in = TensorNd.toNd(Tensor.ofFloats("u", new long[] {K, N}, u), nd);
        try (GradientRecording rec = m.recordGradients()) {
          NDArray out = m.forward(nd, Map.of("u", in)).get("y");
          y = out.toFloatArray();
          rec.backward(out.sum());
        }
      }
      float[] dw = null;
      float[] ds = null;
      for (Parameter p : m.parameters()) {
        try (NDArray grad = p.gradient()) {
          if (p.name().equals("W")) {
            dw = grad.toFloatArray();
          } else {
            ds = grad.toFloatArray();
          }
        }
      }
      return new float[][] {y, dw, ds};
    }
  }

  private static int scaleIndex(int k, int n) {
    return (k / BLOCK) * N + n;
  }

  @Test
  void forwardIsQuantizeThenDequantizeAndTheSteGradientIsIdentityInsideTheRangeOnly()
      throws Exception {
    float[][] r = run(false);
    float[] u = u();
    int inside = 0;
    int outside = 0;
    for (int k = 0; k < K; k++) {
      for (int n = 0; n < N; n++) {
        int i = k * N + n;
        float s = S[scaleIndex(k, n)];
        float z = Z[scaleIndex(k, n)];
        // ONNX QuantizeLinear then DequantizeLinear, written out here
        double q = Math.max(0, Math.min(QMAX, Math.rint(W[i] / s) + z));
        assertThat((double) r[0][i]).isCloseTo((q - z) * s * u[i], within(1e-6));
        double v = W[i] / s;
        boolean in = v >= -z && v <= QMAX - z;
        if (in) {
          inside++;
          assertThat(r[1][i]).isCloseTo(u[i], within(1e-6f));
        } else {
          outside++;
          assertThat(r[1][i]).isZero();
        }
      }
    }
    assertThat(inside).isEqualTo(8); // the values above: 8 inside, 4 clipped
    assertThat(outside).isEqualTo(4);
  }

  @Test
  void lsqStepSizeGradientFollowsItsFormula() throws Exception {
    float[][] r = run(true);
    float[] u = u();
    double[] expected = new double[S.length];
    for (int k = 0; k < K; k++) {
      for (int n = 0; n < N; n++) {
        int i = k * N + n;
        int j = scaleIndex(k, n);
        double s = S[j];
        double z = Z[j];
        double v = W[i] / s;
        double d; // Esser et al. eq. 3: d(v_hat)/ds, times the step size's gradient scale g
        if (v < -z) {
          d = 0 - z;
        } else if (v > QMAX - z) {
          d = QMAX - z;
        } else {
          d = Math.rint(v) - v;
        }
        expected[j] += GRAD_SCALE * u[i] * d;
      }
    }
    for (int j = 0; j < S.length; j++) {
      assertThat((double) r[2][j]).as("dL/ds[%d]", j).isCloseTo(expected[j], within(1e-5));
    }
    assertThat(FakeQuantizeOp.lsqGradScale(128, 7)).isCloseTo(1 / Math.sqrt(896), within(1e-12));
    float[] v = {0.5f, -1.5f, 1f, -1f};
    // 2 * mean|v| / sqrt(Q_P) = 2 * 1 / sqrt(4)
    assertThat(FakeQuantizeOp.lsqInitScale(v, 0, 4, 4)).isEqualTo(1f);
  }
}
