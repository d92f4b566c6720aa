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

/**
 * LayerNormalization (ONNX semantics: axis, epsilon, Scale, B), RMSNorm and ONNX Runtime's
 * Skip(Simplified)LayerNormalization, and inference BatchNormalization.
 */
class NormOpsTest {

  @Test
  void rmsNormalizationAsOnnxRuntimeComputesIt() throws Exception {
    ModelGraph m =
        TestGraphs.opset(17)
            .input("x", DataType.FLOAT, 2, 3, 8)
            .init(TestGraphs.randomTensor("g", 51, 8))
            .node(
                "SimplifiedLayerNormalization",
                List.of("x", "g"),
                List.of("y"),
                Attribute.of("epsilon", 1e-6f))
            .output("y", DataType.FLOAT)
            .build();
    Tensor x = TestGraphs.randomTensor("x", 52, 2, 3, 8);
    // measured 6.0e-8
    Map<String, Tensor> out = agree("SimplifiedLayerNorm", m, Map.of("x", x), 5e-6);
    // y[0][0][:] by hand: x / sqrt(mean(x^2) + eps) * g
    float[] xs = x.toFloatArray();
    float[] g = TestGraphs.randomTensor("g", 51, 8).toFloatArray();
    double ms = 0;
    for (int i = 0; i < 8; i++) {
      ms += xs[i] * xs[i] / 8.0;
    }
    for (int i = 0; i < 8; i++) {
      assertThat(out.get("y").toFloatArray()[i])
          .isCloseTo((float) (xs[i] / Math.sqrt(ms + 1e-6) * g[i]), within(1e-5f));
    }
  }

  @Test
  void skipLayerNormalizationWithBiasAndItsSumOutput() throws Exception {
    for (String op : List.of("SkipLayerNormalization", "SkipSimplifiedLayerNormalization")) {
      boolean simplified = op.startsWith("SkipSimplified");
      List<String> in =
          simplified ? List.of("x", "skip", "g", "bias") : List.of("x", "skip", "g", "b", "bias");
      ModelGraph m =
          TestGraphs.opset(17)
              .domain("com.microsoft", 1)
              .input("x", DataType.FLOAT, 2, 3, 8)
              .input("skip", DataType.FLOAT, 2, 3, 8)
              .init(TestGraphs.randomTensor("g", 61, 8))
              .init(TestGraphs.randomTensor("b", 62, 8))
              .init(TestGraphs.randomTensor("bias", 63, 8))
              .node(
                  "com.microsoft",
                  op,
                  in,
                  List.of("y", "", "", "sum"),
                  Attribute.of("epsilon", 1e-5f))
              .output("y", DataType.FLOAT)
              .output("sum", DataType.FLOAT)
              .build();
      Tensor x = TestGraphs.randomTensor("x", 64, 2, 3, 8);
      Tensor skip = TestGraphs.randomTensor("skip", 65, 2, 3, 8);
      // measured 1.2e-7 (SkipLayerNormalization y), 6.0e-8 (SkipSimplified y), 0 (sum)
      agree(op, m, Map.of("x", x, "skip", skip), 5e-6);
    }
  }

  @Test
  void layerNormalizationOverTheLastAxisAndOverSeveral() throws Exception {
    ModelGraph m =
        TestGraphs.opset(17)
            .input("x", DataType.FLOAT, 2, 3, 4)
            .init(TestGraphs.randomTensor("g", 41, 4))
            .init(TestGraphs.randomTensor("b", 42, 4))
            .init(TestGraphs.randomTensor("g2", 43, 3, 4))
            .node(
                "LayerNormalization",
                List.of("x", "g", "b"),
                List.of("y"),
                Attribute.of("epsilon", 1e-12f))
            .node(
                "LayerNormalization",
                List.of("x", "g2"),
                List.of("y2", "mean", "inv"),
                Attribute.of("axis", 1L))
            .output("y", DataType.FLOAT)
            .output("y2", DataType.FLOAT)
            .output("mean", DataType.FLOAT)
            .output("inv", DataType.FLOAT)
            .build();
    Tensor x = TestGraphs.randomTensor("x", 44, 2, 3, 4);
    // measured 7.2e-7 (y), 1.8e-7 (y2), 2.4e-7 (inv)
    Map<String, Tensor> out = agree("LayerNorm", m, Map.of("x", x), 5e-6);
    assertThat(out.get("mean").shape()).containsExactly(2, 1, 1);
    // y[0][0][:] by hand
    float[] xs = x.toFloatArray();
    float[] g = TestGraphs.random(41, 4);
    float[] b = TestGraphs.random(42, 4);
    double mu = (xs[0] + xs[1] + xs[2] + xs[3]) / 4.0;
    double var = 0;
    for (int k = 0; k < 4; k++) {
      var += (xs[k] - mu) * (xs[k] - mu) / 4;
    }
    for (int k = 0; k < 4; k++) {
      double expected = (xs[k] - mu) / Math.sqrt(var + 1e-12) * g[k] + b[k];
      assertThat((double) out.get("y").toFloatArray()[k]).isCloseTo(expected, within(1e-5));
    }
  }

  @Test
  void batchNormalizationInInferenceMode() throws Exception {
    ModelGraph m =
        TestGraphs.opset(15)
            .input("x", DataType.FLOAT, 2, 3, 4, 4)
            .init(Tensor.ofFloats("s", new long[] {3}, 1f, 2f, 0.5f))
            .init(Tensor.ofFloats("b", new long[] {3}, 0f, 1f, -1f))
            .init(Tensor.ofFloats("mu", new long[] {3}, 0.1f, -0.2f, 0f))
            .init(Tensor.ofFloats("var", new long[] {3}, 1f, 4f, 0.25f))
            .node(
                "BatchNormalization",
                List.of("x", "s", "b", "mu", "var"),
                List.of("y"),
                Attribute.of("epsilon", 0f))
            .output("y", DataType.FLOAT)
            .build();
    Tensor x = TestGraphs.randomTensor("x", 45, 2, 3, 4, 4);
    Map<String, Tensor> out = agree("BatchNorm", m, Map.of("x", x), 1e-6); // measured 1.2e-7
    // channel 1: (x + 0.2) / 2 * 2 + 1
    float x0 = x.toFloatArray()[16];
    assertThat(out.get("y").toFloatArray()[16]).isCloseTo(x0 + 0.2f + 1f, within(1e-6f));
  }
}
