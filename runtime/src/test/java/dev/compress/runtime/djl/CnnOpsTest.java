package dev.compress.runtime.djl;

import static dev.compress.runtime.djl.OpHarness.agree;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Convolution and pooling with the padding modes ONNX allows, and a small CNN end to end. */
class CnnOpsTest {
  private static final Tensor X = TestGraphs.randomTensor("x", 51, 2, 4, 7, 6);

  /** One Conv configuration: name and attributes. */
  record ConvCase(String name, long group, List<Attribute> attrs, boolean bias) {
    @Override
    public String toString() {
      return name;
    }
  }

  static List<ConvCase> convCases() {
    List<ConvCase> c = new ArrayList<>();
    c.add(new ConvCase("plain", 1, List.of(), true));
    c.add(new ConvCase("no-bias", 1, List.of(), false));
    c.add(new ConvCase("pads", 1, List.of(Attribute.ofInts("pads", 1, 1, 1, 1)), true));
    c.add(new ConvCase("asym-pads", 1, List.of(Attribute.ofInts("pads", 0, 2, 1, 0)), true));
    c.add(
        new ConvCase(
            "strides-dilations",
            1,
            List.of(Attribute.ofInts("strides", 2, 1), Attribute.ofInts("dilations", 1, 2)),
            true));
    c.add(new ConvCase("groups", 2, List.of(Attribute.of("group", 2L)), true));
    c.add(new ConvCase("depthwise", 4, List.of(Attribute.of("group", 4L)), true));
    c.add(
        new ConvCase(
            "same-upper",
            1,
            List.of(Attribute.of("auto_pad", "SAME_UPPER"), Attribute.ofInts("strides", 2, 2)),
            true));
    c.add(new ConvCase("same-lower", 1, List.of(Attribute.of("auto_pad", "SAME_LOWER")), true));
    c.add(new ConvCase("valid", 1, List.of(Attribute.of("auto_pad", "VALID")), true));
    return c;
  }

  @ParameterizedTest
  @MethodSource("convCases")
  void conv2dMatchesOrt(ConvCase c) throws Exception {
    long inPerGroup = 4 / c.group();
    List<String> inputs = c.bias() ? List.of("x", "w", "b") : List.of("x", "w");
    ModelGraph m =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, 2, 4, 7, 6)
            .init(TestGraphs.randomTensor("w", 52, 4, inPerGroup, 3, 2))
            .init(TestGraphs.randomTensor("b", 53, 4))
            .node("Conv", inputs, List.of("y"), c.attrs().toArray(Attribute[]::new))
            .output("y", DataType.FLOAT)
            .build();
    agree("Conv " + c.name(), m, Map.of("x", X), 1e-5); // measured <= 7.2e-7
  }

  @Test
  void convAttributesThatDoNotFitAreRefusedNamingNodeAndAttribute() throws Exception {
    Object[][] bad = {
      {Attribute.ofInts("kernel_shape", 3, 3), "kernel_shape [3, 3] does not match"},
      {Attribute.ofInts("pads", 1, 1), "pads [1, 1] needs 4 values"},
      {Attribute.ofInts("strides", 2), "strides [2] needs 2 values"},
      {Attribute.of("group", 3L), "group=3 does not fit input channels 4"},
      {Attribute.of("auto_pad", "WRONG"), "auto_pad='WRONG'"},
    };
    for (Object[] b : bad) {
      ModelGraph m =
          TestGraphs.opset(13)
              .input("x", DataType.FLOAT, 2, 4, 7, 6)
              .init(TestGraphs.randomTensor("w", 52, 4, 4, 3, 2))
              .node("Conv", List.of("x", "w"), List.of("y"), (Attribute) b[0])
              .output("y", DataType.FLOAT)
              .build();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> OpHarness.djl(m, Map.of("x", X)))
          .hasMessageContaining("Conv '")
          .hasMessageContaining((String) b[1]);
    }
  }

  @Test
  void conv1dAndConvByHand() throws Exception {
    ModelGraph m =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, 1, 1, 5)
            .init(Tensor.ofFloats("w", new long[] {1, 1, 3}, 1, 1, 1))
            .node("Conv", List.of("x", "w"), List.of("y"), Attribute.ofInts("pads", 1, 1))
            .output("y", DataType.FLOAT)
            .build();
    Tensor x = Tensor.ofFloats("x", new long[] {1, 1, 5}, 1, 2, 3, 4, 5);
    assertThat(agree("Conv1d", m, Map.of("x", x), 0).get("y").toFloatArray())
        .containsExactly(3, 6, 9, 12, 9);
  }

  @Test
  void poolingWithPaddingCeilModeAndCountIncludePad() throws Exception {
    ModelGraph m =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, 2, 4, 7, 6)
            .node(
                "MaxPool",
                List.of("x"),
                List.of("mp"),
                Attribute.ofInts("kernel_shape", 3, 3),
                Attribute.ofInts("strides", 2, 2),
                Attribute.ofInts("pads", 1, 1, 1, 1))
            .node(
                "MaxPool",
                List.of("x"),
                List.of("mpa"),
                Attribute.ofInts("kernel_shape", 2, 2),
                Attribute.ofInts("pads", 0, 1, 1, 0))
            .node(
                "MaxPool",
                List.of("x"),
                List.of("mpc"),
                Attribute.ofInts("kernel_shape", 2, 2),
                Attribute.ofInts("strides", 2, 2),
                Attribute.of("ceil_mode", 1L))
            .node(
                "AveragePool",
                List.of("x"),
                List.of("ap"),
                Attribute.ofInts("kernel_shape", 3, 3),
                Attribute.ofInts("pads", 1, 1, 1, 1))
            .node(
                "AveragePool",
                List.of("x"),
                List.of("api"),
                Attribute.ofInts("kernel_shape", 3, 3),
                Attribute.ofInts("pads", 1, 1, 1, 1),
                Attribute.of("count_include_pad", 1L))
            .node(
                "AveragePool",
                List.of("x"),
                List.of("aps"),
                Attribute.ofInts("kernel_shape", 2, 2),
                Attribute.of("auto_pad", "SAME_UPPER"))
            .node("GlobalAveragePool", List.of("x"), List.of("gap"))
            .node("GlobalMaxPool", List.of("x"), List.of("gmp"))
            .output("mp", DataType.FLOAT)
            .output("mpa", DataType.FLOAT)
            .output("mpc", DataType.FLOAT)
            .output("ap", DataType.FLOAT)
            .output("api", DataType.FLOAT)
            .output("aps", DataType.FLOAT)
            .output("gap", DataType.FLOAT)
            .output("gmp", DataType.FLOAT)
            .build();
    Map<String, Tensor> out = agree("pools", m, Map.of("x", X), 1e-6); // measured <= 8.9e-8
    assertThat(out.get("mpc").shape()).containsExactly(2, 4, 4, 3);
    assertThat(out.get("gap").shape()).containsExactly(2, 4, 1, 1);
  }

  @Test
  void smallCnnEndToEnd() throws Exception {
    // conv(4->8, 3x3, pad 1) -> BN -> ReLU -> maxpool 2 -> conv(8->8) -> clip -> GAP -> flatten
    // -> gemm(8->10, transB) -> softmax
    ModelGraph m =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, -1, 4, 7, 6)
            .init(TestGraphs.randomTensor("w1", 61, 8, 4, 3, 3))
            .init(TestGraphs.randomTensor("b1", 62, 8))
            .init(Tensor.ofFloats("s", new long[] {8}, 1, 2, 1, 2, 1, 2, 1, 2))
            .init(TestGraphs.randomTensor("beta", 63, 8))
            .init(TestGraphs.randomTensor("mu", 64, 8))
            .init(Tensor.ofFloats("var", new long[] {8}, 1, 1, 2, 2, 3, 3, 4, 4))
            .init(TestGraphs.randomTensor("w2", 65, 8, 8, 3, 3))
            .init(TestGraphs.randomTensor("fc", 66, 10, 8))
            .init(TestGraphs.randomTensor("fcb", 67, 10))
            .init(Tensor.ofFloats("lo", new long[0], 0f))
            .init(Tensor.ofFloats("hi", new long[0], 6f))
            .node(
                "Conv",
                List.of("x", "w1", "b1"),
                List.of("c1"),
                Attribute.ofInts("pads", 1, 1, 1, 1))
            .node("BatchNormalization", List.of("c1", "s", "beta", "mu", "var"), List.of("bn"))
            .node("Relu", List.of("bn"), List.of("r"))
            .node(
                "MaxPool",
                List.of("r"),
                List.of("p"),
                Attribute.ofInts("kernel_shape", 2, 2),
                Attribute.ofInts("strides", 2, 2))
            .node("Conv", List.of("p", "w2"), List.of("c2"), Attribute.of("auto_pad", "SAME_UPPER"))
            .node("Clip", List.of("c2", "lo", "hi"), List.of("cl"))
            .node("GlobalAveragePool", List.of("cl"), List.of("g"))
            .node("Flatten", List.of("g"), List.of("f"))
            .node("Gemm", List.of("f", "fc", "fcb"), List.of("logits"), Attribute.of("transB", 1L))
            .node("Softmax", List.of("logits"), List.of("prob"))
            .output("prob", DataType.FLOAT)
            .build();
    Map<String, Tensor> out = agree("small CNN", m, Map.of("x", X), 1e-5); // measured 3.0e-7
    assertThat(out.get("prob").shape()).containsExactly(2, 10);
  }
}
