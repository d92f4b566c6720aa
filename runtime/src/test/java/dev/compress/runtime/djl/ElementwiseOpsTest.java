package dev.compress.runtime.djl;

import static dev.compress.runtime.djl.OpHarness.agree;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Elementwise arithmetic, comparisons, casts and parameterless activations. */
class ElementwiseOpsTest {

  @ParameterizedTest
  @ValueSource(strings = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean"})
  void binaryFloatWithBroadcastMatchesOrt(String op) throws Exception {
    ModelGraph m =
        TestGraphs.opset(14)
            .input("a", DataType.FLOAT, 2, 3, 4)
            .init(Tensor.ofFloats("b", new long[] {3, 1}, 0.5f, 2f, 3f))
            .node(op, List.of("a", "b"), List.of("y"))
            .output("y", DataType.FLOAT)
            .build();
    Tensor a = positive(TestGraphs.randomTensor("a", 1, 2, 3, 4));
    // measured 0 for all nine ops
    agree(op, m, Map.of("a", a), 1e-6);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Neg",
        "Abs",
        "Exp",
        "Sqrt",
        "Log",
        "Reciprocal",
        "Floor",
        "Ceil",
        "Round",
        "Sign",
        "Sin",
        "Cos",
        "Tanh",
        "Erf",
        "Relu",
        "Sigmoid"
      })
  void unaryFloatMatchesOrt(String op) throws Exception {
    ModelGraph m =
        TestGraphs.opset(14)
            .input("x", DataType.FLOAT, 4, 5)
            .node(op, List.of("x"), List.of("y"))
            .output("y", DataType.FLOAT)
            .build();
    Tensor x = TestGraphs.randomTensor("x", 2, 4, 5);
    if (op.equals("Sqrt") || op.equals("Log")) {
      x = positive(x);
    }
    agree(op, m, Map.of("x", x), 1e-6); // measured <= 6.0e-8 (Sqrt, Sin, Cos, Tanh, Erf, ...)
  }

  @Test
  void integerDivTruncatesTowardZeroAndStaysInt64() throws Exception {
    ModelGraph m =
        TestGraphs.opset(14)
            .input("a", DataType.INT64, 4)
            .input("b", DataType.INT64, 4)
            .node("Div", List.of("a", "b"), List.of("y"))
            .node("Mul", List.of("y", "b"), List.of("z"))
            .output("y", DataType.INT64)
            .output("z", DataType.INT64)
            .build();
    Map<String, Tensor> in =
        Map.of(
            "a", Tensor.ofLongs("a", new long[] {4}, 7, -7, 9_007_199_254_740_000L, 12),
            "b", Tensor.ofLongs("b", new long[] {4}, 2, 2, 1000, -5));
    Map<String, Tensor> out = agree("int Div", m, in, 0);
    assertThat(out.get("y").dtype()).isEqualTo(DataType.INT64);
    assertThat(out.get("y").toLongArray()).containsExactly(3, -3, 9_007_199_254_740L, -2);
  }

  @Test
  void comparisonsWhereAndLogicMatchOrt() throws Exception {
    ModelGraph m =
        TestGraphs.opset(14)
            .input("a", DataType.FLOAT, 6)
            .input("b", DataType.FLOAT, 6)
            .node("Equal", List.of("a", "b"), List.of("eq"))
            .node("Less", List.of("a", "b"), List.of("lt"))
            .node("GreaterOrEqual", List.of("a", "b"), List.of("ge"))
            .node("Or", List.of("eq", "lt"), List.of("le"))
            .node("Not", List.of("le"), List.of("gt"))
            .node("Xor", List.of("gt", "ge"), List.of("x"))
            .node("Where", List.of("lt", "a", "b"), List.of("min"))
            .output("eq", DataType.BOOL)
            .output("gt", DataType.BOOL)
            .output("x", DataType.BOOL)
            .output("min", DataType.FLOAT)
            .build();
    Map<String, Tensor> in =
        Map.of(
            "a", Tensor.ofFloats("a", new long[] {6}, 1, 2, 3, -1, 0, 5),
            "b", Tensor.ofFloats("b", new long[] {6}, 1, 3, 2, -2, 0, 6));
    Map<String, Tensor> out = agree("compare", m, in, 0);
    assertThat(out.get("eq").toLongArray()).containsExactly(1, 0, 0, 0, 1, 0);
    assertThat(out.get("gt").toLongArray()).containsExactly(0, 0, 1, 1, 0, 0);
    assertThat(out.get("x").toLongArray()).containsExactly(1, 0, 0, 0, 1, 0);
    assertThat(out.get("min").toFloatArray()).containsExactly(1, 2, 2, -2, 0, 5);
  }

  @Test
  void castTruncatesFloatsAndMakesMasks() throws Exception {
    ModelGraph m =
        TestGraphs.opset(14)
            .input("x", DataType.FLOAT, 5)
            .node("Cast", List.of("x"), List.of("i"), Attribute.of("to", 7L))
            .node("Cast", List.of("x"), List.of("b"), Attribute.of("to", 9L))
            .node("Cast", List.of("b"), List.of("f"), Attribute.of("to", 1L))
            .output("i", DataType.INT64)
            .output("f", DataType.FLOAT)
            .build();
    Map<String, Tensor> out =
        agree(
            "Cast",
            m,
            Map.of("x", Tensor.ofFloats("x", new long[] {5}, 1.7f, -1.7f, 0f, 2.5f, -0.2f)),
            0);
    assertThat(out.get("i").toLongArray()).containsExactly(1, -1, 0, 2, 0);
    assertThat(out.get("f").toFloatArray()).containsExactly(1, 1, 0, 1, 1);
  }

  @Test
  void clipUsesAttributesBeforeOpset11AndInputsAfter() throws Exception {
    Tensor x = Tensor.ofFloats("x", new long[] {5}, -3, -0.5f, 0, 0.5f, 3);
    ModelGraph old =
        TestGraphs.opset(6)
            .input("x", DataType.FLOAT, 5)
            .node(
                "Clip",
                List.of("x"),
                List.of("y"),
                Attribute.of("min", -1f),
                Attribute.of("max", 1f))
            .output("y", DataType.FLOAT)
            .build();
    assertThat(agree("Clip-6", old, Map.of("x", x), 0).get("y").toFloatArray())
        .containsExactly(-1, -0.5f, 0, 0.5f, 1);
    ModelGraph now =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, 5)
            .init(Tensor.ofFloats("lo", new long[0], -0.25f))
            .node("Clip", List.of("x", "lo"), List.of("y"))
            .output("y", DataType.FLOAT)
            .build();
    assertThat(agree("Clip-13", now, Map.of("x", x), 0).get("y").toFloatArray())
        .containsExactly(-0.25f, -0.25f, 0, 0.5f, 3);
  }

  @Test
  void leakyReluAndGeluForms() throws Exception {
    ModelGraph m =
        TestGraphs.opset(20)
            .domain("com.microsoft", 1)
            .input("x", DataType.FLOAT, 3, 7)
            .init(TestGraphs.randomTensor("bias", 9, 7))
            .node("LeakyRelu", List.of("x"), List.of("lr"), Attribute.of("alpha", 0.2f))
            .node("Gelu", List.of("x"), List.of("g"))
            .node("Gelu", List.of("x"), List.of("gt"), Attribute.of("approximate", "tanh"))
            .node("com.microsoft", "Gelu", List.of("x"), List.of("mg"))
            .node("com.microsoft", "BiasGelu", List.of("x", "bias"), List.of("bg"))
            .node("com.microsoft", "FastGelu", List.of("x", "bias"), List.of("fg"))
            .output("lr", DataType.FLOAT)
            .output("g", DataType.FLOAT)
            .output("gt", DataType.FLOAT)
            .output("mg", DataType.FLOAT)
            .output("bg", DataType.FLOAT)
            .output("fg", DataType.FLOAT)
            .build();
    Tensor x = TestGraphs.randomTensor("x", 3, 3, 7);
    // measured <= 1.2e-7 (BiasGelu, FastGelu); 3.0e-8 for the erf forms
    Map<String, Tensor> out = agree("activations", m, Map.of("x", x), 1e-5);
    float[] xs = x.toFloatArray();
    float[] g = out.get("mg").toFloatArray();
    for (int i = 0; i < xs.length; i++) {
      double expected = 0.5 * xs[i] * (1 + erf(xs[i] / Math.sqrt(2)));
      assertThat((double) g[i]).isCloseTo(expected, within(1e-6));
    }
  }

  /** Abramowitz-Stegun 7.1.26 is too coarse; this series is exact to 1e-12 for |x| <= 1. */
  private static double erf(double x) {
    double sum = 0;
    double term = x;
    for (int n = 0; n < 40; n++) {
      sum += term / (2 * n + 1);
      term *= -x * x / (n + 1);
    }
    return 2 / Math.sqrt(Math.PI) * sum;
  }

  private static Tensor positive(Tensor t) {
    float[] v = t.toFloatArray();
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.abs(v[i]) + 0.1f;
    }
    return Tensor.ofFloats(t.name(), t.shape(), v);
  }
}
