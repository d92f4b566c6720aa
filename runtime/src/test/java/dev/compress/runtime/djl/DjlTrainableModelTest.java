package dev.compress.runtime.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import dev.compress.training.GradientRecording;
import dev.compress.training.Parameter;
import dev.compress.training.ParameterSelection;
import dev.compress.training.TensorNd;
import dev.compress.training.TrainableFactory;
import dev.compress.training.TrainableModel;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DjlTrainableModelTest {

  /** x[2,4] -> MatMul(w1[4,3]) + b1 -> Relu -> MatMul(w2[3,2]) -> y. */
  static ModelGraph mlp() {
    return TestGraphs.opset(17)
        .input("x", DataType.FLOAT, -1, 4)
        .init(TestGraphs.randomTensor("w1", 1, 4, 3))
        .init(TestGraphs.randomTensor("b1", 2, 3))
        .init(TestGraphs.randomTensor("w2", 3, 3, 2))
        .node("MatMul", List.of("x", "w1"), List.of("h0"))
        .node("Add", List.of("h0", "b1"), List.of("h1"))
        .node("Relu", List.of("h1"), List.of("h2"))
        .node("MatMul", List.of("h2", "w2"), List.of("y"))
        .output("y", DataType.FLOAT)
        .build();
  }

  static final Tensor X = TestGraphs.randomTensor("x", 7, 2, 4);

  @Test
  void frozenForwardEqualsTheInferenceExecutor() throws Exception {
    Tensor expected;
    try (DjlExecutor ex = DjlExecutor.create(mlp())) {
      expected = ex.forward(Map.of("x", X)).get("y");
    }
    try (TrainableModel m =
            TrainableFactory.installedDefault()
                .create(mlp(), ParameterSelection.all(), Device.CPU);
        NDManager nd = m.newManager()) {
      assertThat(m.parameters()).extracting(Parameter::name).containsExactly("w1", "b1", "w2");
      Map<String, NDArray> out =
          m.forward(nd, Map.of("x", TensorNd.toNd(X, nd)), java.util.Set.of("h2"));
      assertThat(out.keySet()).containsExactly("y", "h2");
      assertThat(TestGraphs.maxAbsDiff(TensorNd.toTensor("y", out.get("y")), expected)).isZero();
      assertThat(out.get("h2").getShape().getShape()).containsExactly(2, 3);
    }
  }

  @Test
  void gradientsMatchFiniteDifferencesAndWriteBackUpdatesTheGraph() throws Exception {
    ModelGraph model = mlp();
    try (DjlTrainableModel m =
            DjlTrainableModel.create(
                model, ParameterSelection.linear(LayerSelection.ALL), Device.CPU);
        NDManager nd = m.newManager()) {
      NDArray x = TensorNd.toNd(X, nd);
      float[] grad;
      try (GradientRecording rec = m.recordGradients()) {
        NDArray y = m.forward(nd, Map.of("x", x)).get("y");
        rec.backward(y.square().sum());
      }
      Parameter w2 = m.parameters().get(m.parameters().size() - 1);
      assertThat(w2.name()).isEqualTo("w2");
      grad = w2.gradient().toFloatArray();
      // Central differences on w2[0][1] in float64 on the host.
      double eps = 1e-3;
      double[] f = new double[2];
      for (int k = 0; k < 2; k++) {
        double d = k == 0 ? eps : -eps;
        w2.update(a -> a.set(new ai.djl.ndarray.index.NDIndex(0, 1), a.getFloat(0, 1) + (float) d));
        try (NDManager t = m.newManager()) {
          f[k] = m.forward(t, Map.of("x", x)).get("y").square().sum().getFloat();
        }
        w2.update(a -> a.set(new ai.djl.ndarray.index.NDIndex(0, 1), a.getFloat(0, 1) - (float) d));
      }
      double fd = (f[0] - f[1]) / (2 * eps);
      assertThat(grad[1]).isCloseTo((float) fd, org.assertj.core.data.Offset.offset(1e-2f));

      // Accumulation, then explicit zeroing.
      try (GradientRecording rec = m.recordGradients()) {
        rec.backward(m.forward(nd, Map.of("x", x)).get("y").square().sum());
      }
      assertThat(w2.gradient().toFloatArray()[1])
          .isCloseTo(2 * grad[1], org.assertj.core.data.Offset.offset(1e-4f));
      m.zeroGradients();
      assertThat(w2.gradient().abs().sum().getFloat()).isZero();

      w2.update(a -> a.subi(1));
      m.writeTo(model);
      float[] written = model.graph().initializers().get("w2").toFloatArray();
      float[] orig = TestGraphs.randomTensor("w2", 3, 3, 2).toFloatArray();
      assertThat(written[0]).isCloseTo(orig[0] - 1, org.assertj.core.data.Offset.offset(1e-6f));
      assertThat(m.residentArrayCount()).isGreaterThan(0);
    }
  }

  @Test
  void oneRecordingAtATime() throws Exception {
    try (DjlTrainableModel m =
            DjlTrainableModel.create(mlp(), ParameterSelection.all(), Device.CPU);
        GradientRecording rec = m.recordGradients()) {
      assertThatThrownBy(m::recordGradients)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already open");
    }
  }

  @Test
  void aNonDifferentiableOpOnTheParameterPathIsNamed() {
    ModelGraph g =
        TestGraphs.opset(17)
            .input("x", DataType.FLOAT, 2, 4)
            .init(TestGraphs.randomTensor("w", 1, 4, 3))
            .node("MatMul", List.of("x", "w"), List.of("h"))
            .node("Round", List.of("h"), List.of("y"))
            .output("y", DataType.FLOAT)
            .build();
    assertThatThrownBy(() -> DjlTrainableModel.create(g, ParameterSelection.all(), Device.CPU))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("Round '/Round_1' reads 'h'")
        .hasMessageContaining("zero almost everywhere");
  }

  @Test
  void bfloat16IsRefusedUpFrontWithAHint() {
    ModelGraph g =
        TestGraphs.opset(17)
            .input("x", DataType.FLOAT, 2, 4)
            .init(
                Tensor.of(
                    "w",
                    DataType.BFLOAT16,
                    new long[] {4, 3},
                    java.nio.ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN)))
            .node("MatMul", List.of("x", "w"), List.of("y"))
            .output("y", DataType.FLOAT)
            .build();
    assertThatThrownBy(() -> DjlExecutor.create(g))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("initializer 'w' is bfloat16")
        .hasMessageContaining("HINT");
    assertThatThrownBy(() -> DjlTrainableModel.create(g, ParameterSelection.none(), Device.CPU))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("HINT");
  }
}
