package dev.compress.evaluation.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.evaluation.TinyModels;
import dev.compress.evaluation.layers.LayerErrors.LayerError;
import dev.compress.evaluation.layers.LayerErrors.Method;
import dev.compress.evaluation.layers.LayerErrors.Mode;
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

  static final List<Map<String, Tensor>> BATCHES =
      List.of(
          Map.of("x", Tensor.ofFloats("x", new long[] {2, 4}, 1, -2, 0.5f, 3, -1, 0, 2, 1)),
          Map.of("x", Tensor.ofFloats("x", new long[] {1, 4}, 0.3f, 0.2f, -0.7f, 1)));

  @Test
  void isolatedErrorIsTheLayersOwnAccumulatedCarriesEarlierLayers() throws Exception {
    // Only fc1 differs: through the network fc2's output is off too; fc2 alone is exact.
    ModelGraph a = TinyModels.mlp(0);
    ModelGraph b = TinyModels.mlp(0.1f);
    LayerErrors.Result ort =
        LayerErrors.measure(a, b, null, null, BATCHES, List.of(Mode.ACCUMULATED, Mode.ISOLATED), 1);
    assertThat(ort.notes()).isEmpty();
    Map<String, Double> acc = byLayer(ort.of(Mode.ACCUMULATED));
    Map<String, Double> iso = byLayer(ort.of(Mode.ISOLATED));
    assertThat(acc.keySet()).containsExactly("/fc1/MatMul", "/fc2/MatMul");
    assertThat(iso.keySet()).containsExactly("/fc1/MatMul", "/fc2/MatMul");
    assertThat(acc.get("/fc2/MatMul")).isGreaterThan(0.01); // measured 0.1255 (fc1: 0.1393)
    assertThat(iso.get("/fc2/MatMul")).isLessThan(1e-6); // measured 0
    assertThat(iso.get("/fc1/MatMul")).isCloseTo(acc.get("/fc1/MatMul"), within(1e-6));
    try (DjlExecutor ea = DjlExecutor.create(a);
        DjlExecutor eb = DjlExecutor.create(b)) {
      LayerErrors.Result djl =
          LayerErrors.measure(a, b, ea, eb, BATCHES, List.of(Mode.ACCUMULATED, Mode.ISOLATED), 1);
      assertThat(byLayer(djl.of(Mode.ACCUMULATED)).get("/fc2/MatMul"))
          .isCloseTo(acc.get("/fc2/MatMul"), within(1e-5));
      assertThat(byLayer(djl.of(Mode.ISOLATED)).get("/fc2/MatMul")).isLessThan(1e-6);
    }
  }

  @Test
  void isolatedRunsTheCompressedNodesOfTheLayerAlone() throws Exception {
    // fc2 stored as int8 behind a DequantizeLinear: isolated sees just its rounding error.
    ModelGraph a = TinyModels.mlp(0);
    ModelGraph b = TinyModels.mlp(0.1f);
    Tensor w2 = b.graph().initializers().remove("W2");
    float[] w = w2.toFloatArray();
    float scale = 0;
    for (float v : w) {
      scale = Math.max(scale, Math.abs(v) / 127);
    }
    byte[] q = new byte[w.length];
    for (int i = 0; i < w.length; i++) {
      q[i] = (byte) Math.round(w[i] / scale);
    }
    b.graph().putInitializer(Tensor.ofBytes("W2_q", DataType.INT8, w2.shape(), q));
    b.graph().putInitializer(Tensor.ofFloats("W2_s", new long[] {}, scale));
    b.graph()
        .nodes()
        .add(0, Node.of("/fc2/DQ", "DequantizeLinear", List.of("W2_q", "W2_s"), List.of("W2")));
    LayerErrors.Result r =
        LayerErrors.measure(a, b, null, null, BATCHES, List.of(Mode.ISOLATED), 1);
    assertThat(r.errors()).allSatisfy(e -> assertThat(e.mode()).isEqualTo(Mode.ISOLATED));
    double fc2 = byLayer(r.errors()).get("/fc2/MatMul");
    assertThat(fc2).isGreaterThan(1e-5).isLessThan(0.02); // measured 0.00227 (int8 rounding)
  }

  @Test
  void aLayerWhoseInputIsComputedDifferentlyIsLeftOutOfIsolatedWithANote() throws Exception {
    ModelGraph a = TinyModels.mlp(0);
    ModelGraph b = TinyModels.mlp(0);
    // fc2's input now comes through a rescaling Mul (as folded SmoothQuant/AWQ scales would).
    b.graph().nodes().get(1).outputs().set(0, "r0");
    b.graph().putInitializer(Tensor.ofFloats("s", new long[] {}, 2f));
    b.graph().nodes().add(2, Node.of("/act/Mul", "Mul", List.of("r0", "s"), List.of("r")));
    LayerErrors.Result r =
        LayerErrors.measure(a, b, null, null, BATCHES, List.of(Mode.ISOLATED), 1);
    assertThat(byLayer(r.errors()).keySet()).containsExactly("/fc1/MatMul");
    assertThat(r.notes())
        .singleElement()
        .asString()
        .startsWith(
            "isolated: 1 of 2 layers not measured alone (first, /fc2/MatMul: its input 'r'");
  }

  @Test
  void modesParseWithTheKeyInTheMessage() throws Exception {
    assertThat(Mode.parse("both", "--layer-errors"))
        .containsExactly(Mode.ACCUMULATED, Mode.ISOLATED);
    assertThat(Mode.parse("Isolated", "--layer-errors")).containsExactly(Mode.ISOLATED);
    assertThatThrownBy(() -> Mode.parse("all", "--layer-errors"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("--layer-errors must be one of [accumulated, isolated, both], found 'all'");
  }

  static Map<String, Double> byLayer(List<LayerError> errors) {
    Map<String, Double> m = new java.util.LinkedHashMap<>();
    errors.forEach(e -> m.put(e.layer(), e.relativeError()));
    return m;
  }
}
