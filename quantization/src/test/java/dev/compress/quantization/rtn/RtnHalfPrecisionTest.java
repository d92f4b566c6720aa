package dev.compress.quantization.rtn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.gptq.GptqOrtTest;
import dev.compress.quantization.grid.Granularity;
import dev.compress.runtime.ort.OrtExecutor;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RTN on an MLP whose weights are f16 or bf16 ({@link FloatPrecision}): the weights are read in
 * their own type, the quantized layers produce that type (MatMulNBits scales in it; an 8-bit
 * DequantizeLinear followed by a Cast to it), and the model computes what the same weights widened
 * to f32 and quantized by the f32 path compute, within the half type's rounding of scales and
 * arithmetic.
 *
 * <p>ONNX Runtime 1.22's CPU provider runs the f16 model (MatMul, Gemm, Add, Relu, MatMulNBits with
 * f16 scales, Cast) but has no bf16 kernels (a bf16 session aborts the JVM); the bf16 result is
 * widened to f32 ({@link FloatPrecision#convert} to FLOAT: exact, bf16 values are f32 values) and
 * run there, which checks the values the pass wrote.
 */
class RtnHalfPrecisionTest {
  // Bounds relative to max |y|. Measured: f16 8-bit 3.7e-4 and 4-bit 5.1e-4 (f16 arithmetic);
  // bf16 8-bit 0 (f32 scales, widened); bf16 4-bit 2.4e-3 (MatMulNBits scales rounded to bf16).
  @ParameterizedTest
  @CsvSource({
    "FLOAT16,8,PER_CHANNEL,1e-3",
    "FLOAT16,4,PER_GROUP,1e-3",
    "BFLOAT16,8,PER_CHANNEL,1e-6",
    "BFLOAT16,4,PER_GROUP,5e-3"
  })
  void halfWeightsAreQuantizedAndComputeWhatF32Computes(
      DataType type, int bits, Granularity granularity, double bound) throws Exception {
    RtnConfig cfg =
        RtnConfig.builder()
            .bits(bits)
            .granularity(granularity)
            .groupSize(32)
            .symmetric(false)
            .build();
    // The reference: the same half weights widened to f32, quantized by the f32 path.
    ModelGraph f32 = GptqOrtTest.mlp(1);
    FloatPrecision.convert(f32, type);
    FloatPrecision.convert(f32, DataType.FLOAT);
    new RtnPass(cfg).apply(f32, PassContext.of(0));
    ModelGraph half = GptqOrtTest.mlp(1);
    FloatPrecision.convert(half, type);
    PassReport r = new RtnPass(cfg).apply(half, PassContext.of(0));
    assertThat(r.layersTouched()).containsExactly("/fc1/MatMul", "/fc2/Gemm");

    if (bits == 4) {
      for (Node n : half.graph().nodes()) {
        if (n.opType().equals("MatMulNBits")) {
          assertThat(half.graph().initializers().get(n.input(2)).dtype()).isEqualTo(type);
        }
      }
    } else {
      assertThat(half.graph().nodes().stream().filter(n -> n.opType().equals("Cast")).count())
          .isEqualTo(2);
    }
    // Only the biases stay float: in their own type.
    assertThat(half.graph().initializers().get("b1").dtype()).isEqualTo(type);

    Tensor x = GptqOrtTest.input(7, 16);
    float[] want;
    float[] got;
    try (OrtExecutor e = OrtExecutor.builder().setModel(f32).build()) {
      want = e.forward(Map.of("x", x)).get("y").toFloatArray();
    }
    if (type == DataType.BFLOAT16) {
      FloatPrecision.convert(half, DataType.FLOAT);
    }
    Tensor feed =
        type == DataType.FLOAT16 ? Tensor.ofFloats("x", type, x.shape(), x.toFloatArray()) : x;
    try (OrtExecutor e = OrtExecutor.builder().setModel(half).build()) {
      got = e.forward(Map.of("x", feed)).get("y").toFloatArray();
    }
    double maxDiff = 0;
    double maxAbs = 0;
    for (int i = 0; i < want.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
      maxAbs = Math.max(maxAbs, Math.abs(want[i]));
    }
    System.out.printf(
        "[rtn-half] %s %d-bit %s: max |diff| %.2e of max %.2f%n",
        type, bits, granularity, maxDiff, maxAbs);
    assertThat(maxDiff).isLessThan(bound * maxAbs);
  }
}
