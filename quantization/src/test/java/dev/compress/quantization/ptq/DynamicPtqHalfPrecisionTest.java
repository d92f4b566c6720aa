package dev.compress.quantization.ptq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.gptq.GptqOrtTest;
import dev.compress.runtime.ort.OrtExecutor;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Dynamic PTQ on an MLP with f16 or bf16 weights: the int8 weights are quantized from the half
 * values, {@code DynamicQuantizeLinear} (f32 only) reads the input widened by a Cast, and the f32
 * result is cast back to the layer's type; the model computes what the same weights widened to f32
 * and quantized compute. f16 runs in ONNX Runtime as is; bf16 (no CPU kernels there) is widened to
 * f32 after the pass.
 */
class DynamicPtqHalfPrecisionTest {
  @ParameterizedTest
  @EnumSource(
      value = DataType.class,
      names = {"FLOAT16", "BFLOAT16"})
  void halfLayersAreDynamicallyQuantized(DataType type) throws Exception {
    DynamicPtqConfig cfg = DynamicPtqConfig.builder().embeddings(false).build();
    ModelGraph ref = GptqOrtTest.mlp(1);
    FloatPrecision.convert(ref, type);
    FloatPrecision.convert(ref, DataType.FLOAT);
    PassReport want = new DynamicPtqPass(cfg).apply(ref, PassContext.of(0));
    ModelGraph half = GptqOrtTest.mlp(1);
    FloatPrecision.convert(half, type);
    PassReport got = new DynamicPtqPass(cfg).apply(half, PassContext.of(0));
    assertThat(got.layersTouched()).containsExactly("/fc1/MatMul", "/fc2/Gemm");
    assertThat(got.layerMetrics()).isEqualTo(want.layerMetrics()); // same codes, same SQNR
    // One widening Cast per quantized input, one narrowing Cast per layer.
    assertThat(half.graph().nodes().stream().filter(n -> n.opType().equals("Cast")).count())
        .isEqualTo(ref.graph().nodes().stream().filter(n -> n.opType().equals("Cast")).count() + 4);

    Tensor x = GptqOrtTest.input(7, 16);
    float[] y0;
    float[] y1;
    try (OrtExecutor e = OrtExecutor.builder().setModel(ref).build()) {
      y0 = e.forward(Map.of("x", x)).get("y").toFloatArray();
    }
    Tensor feed = x;
    if (type == DataType.BFLOAT16) {
      FloatPrecision.convert(half, DataType.FLOAT);
    } else {
      feed = Tensor.ofFloats("x", type, x.shape(), x.toFloatArray());
    }
    try (OrtExecutor e = OrtExecutor.builder().setModel(half).build()) {
      y1 = e.forward(Map.of("x", feed)).get("y").toFloatArray();
    }
    double maxDiff = 0;
    double maxAbs = 0;
    for (int i = 0; i < y0.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(y0[i] - y1[i]));
      maxAbs = Math.max(maxAbs, Math.abs(y0[i]));
    }
    System.out.printf(
        "[dynamic-half] %s: max |diff| %.2e of max %.2f (%.1e relative)%n",
        type, maxDiff, maxAbs, maxDiff / maxAbs);
    // Measured: f16 6.7e-3 relative (the hidden activation is f16, so the second layer's dynamic
    // input codes differ a little); bf16 0 (widened: identical f32 models).
    assertThat(maxDiff).isLessThanOrEqualTo((type == DataType.FLOAT16 ? 0.02 : 0) * maxAbs);
  }
}
