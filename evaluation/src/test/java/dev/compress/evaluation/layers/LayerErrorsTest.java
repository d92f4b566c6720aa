package dev.compress.evaluation.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.tensor.Tensor;
import dev.compress.evaluation.TinyModels;
import dev.compress.evaluation.layers.LayerErrors.LayerError;
import dev.compress.evaluation.layers.LayerErrors.Method;
import dev.compress.runtime.djl.DjlExecutor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerErrorsTest {
  static final float[][] W = {{1, 2}, {3, 4}};
  static final float[][] W2 = {{1, 2}, {3, 0}}; // the 4 pruned
  static final Map<String, Tensor> X =
      Map.of("x", Tensor.ofFloats("x", new long[] {2, 2}, 1, 0, 0, 1)); // identity: y = W

  // ||W2 - W|| / ||W|| = 4 / sqrt(1 + 4 + 9 + 16)
  static final double EXPECTED = 4 / Math.sqrt(30);

  @Test
  void activationErrorOnBothEnginesAndWeightErrorWhenTheOutputIsGone(@TempDir Path dir)
      throws Exception {
    ModelGraph a = OnnxReader.read(TinyModels.linear(dir.resolve("a.onnx"), W));
    ModelGraph b = OnnxReader.read(TinyModels.linear(dir.resolve("b.onnx"), W2));
    List<LayerError> ort = LayerErrors.measure(a, b, X, 1);
    assertThat(ort).hasSize(1);
    assertThat(ort.get(0).layer()).isEqualTo("/fc/MatMul");
    assertThat(ort.get(0).method()).isEqualTo(Method.ACTIVATION);
    assertThat(ort.get(0).relativeError()).isCloseTo(EXPECTED, within(1e-6));
    try (DjlExecutor ea = DjlExecutor.create(a);
        DjlExecutor eb = DjlExecutor.create(b)) {
      List<LayerError> djl = LayerErrors.measure(a, b, ea, eb, X);
      assertThat(djl).hasSize(1);
      assertThat(djl.get(0).relativeError()).isCloseTo(EXPECTED, within(1e-6));
    }
    // The compressed graph writes another value: only the weights can be compared.
    b.graph().nodes().get(0).outputs().set(0, "other");
    b.graph().outputs().clear();
    List<LayerError> w = LayerErrors.measure(a, b, X, 1);
    assertThat(w).singleElement().satisfies(e -> assertThat(e.method()).isEqualTo(Method.WEIGHT));
    assertThat(w.get(0).relativeError()).isCloseTo(EXPECTED, within(1e-6));
  }
}
