package dev.compress.quantization.gptq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.ort.OrtExecutor;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * GPTQ on the MLP of {@link GptqOrtTest} with f16 weights: calibrated in the model's own type (DJL
 * runs the f16 MLP), quantized, and written in that type; the result computes in ONNX Runtime what
 * GPTQ on the same weights widened to f32 computes, within f16 rounding. bf16 weights are refused
 * before calibration: DJL's PyTorch engine aborts the JVM on a bf16 graph (measured here with DJL's
 * libtorch 2.7.1 CPU build), and a clear refusal beats a crash.
 */
class GptqHalfPrecisionTest {
  // Bounds relative to max |y|. Measured: 4-bit g32 3.1e-3 (f16 activations in the Hessians and
  // f16 arithmetic), 8-bit per channel 3.4e-4.
  @ParameterizedTest
  @CsvSource({"FLOAT16,4,32,0.01", "FLOAT16,8,0,2e-3"})
  void halfWeightsAreCalibratedQuantizedAndWrittenInTheirType(
      DataType type, int bits, int group, double bound) throws Exception {
    GptqConfig cfg =
        GptqConfig.builder()
            .bits(bits)
            .groupSize(group)
            .symmetric(true)
            .actOrder(false)
            .staticGroups(false)
            .dampPercent(0.01)
            .maxDampPercent(1.0)
            .blockSize(128)
            .blockPattern(null)
            .accuracyLevel(0)
            .build();
    CalibrationSet cal = GptqOrtTest.calibration();
    ModelGraph f32 = GptqOrtTest.mlp(1);
    FloatPrecision.convert(f32, type);
    FloatPrecision.convert(f32, DataType.FLOAT);
    new GptqPass(cfg).apply(f32, context(cal));

    ModelGraph half = GptqOrtTest.mlp(1);
    FloatPrecision.convert(half, type);
    PassReport r = new GptqPass(cfg).apply(half, context(cast(cal, type)));
    assertThat(r.layersTouched()).containsExactly("/fc1/MatMul", "/fc2/Gemm");
    assertThat(half.graph().initializers().get("b2").dtype()).isEqualTo(type);

    Tensor x = GptqOrtTest.input(7, 16);
    float[] want;
    float[] got;
    try (OrtExecutor e = OrtExecutor.builder().setModel(f32).build()) {
      want = e.forward(Map.of("x", x)).get("y").toFloatArray();
    }
    try (OrtExecutor e = OrtExecutor.builder().setModel(half).build()) {
      got = e.forward(Map.of("x", cast(x, type))).get("y").toFloatArray();
    }
    double maxDiff = 0;
    double maxAbs = 0;
    for (int i = 0; i < want.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
      maxAbs = Math.max(maxAbs, Math.abs(want[i]));
    }
    System.out.printf(
        "[gptq-half] %s %d-bit g%d: max |diff| %.2e of max %.2f (%.1e relative)%n",
        type, bits, group, maxDiff, maxAbs, maxDiff / maxAbs);
    assertThat(maxDiff).isLessThan(bound * maxAbs);
  }

  @Test
  void bf16WeightsAreRefusedBeforeCalibration() {
    ModelGraph m = GptqOrtTest.mlp(1);
    FloatPrecision.convert(m, DataType.BFLOAT16);
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                new GptqPass(GptqConfig.defaults().withBits(4, 32))
                    .apply(m, context(GptqOrtTest.calibration())));
    // One line for the model, not one per layer.
    assertThat(e.problems()).hasSize(1);
    assertThat(e.problems().getFirst()).contains("BFLOAT16 (first: W1)", "GPTQ calibrates", "HINT");
  }

  private static PassContext context(CalibrationSet c) {
    return new PassContext(0, Optional.of(c), Optional.empty(), ProgressListener.NONE);
  }

  static Tensor cast(Tensor t, DataType type) {
    return Tensor.ofFloats(t.name(), type, t.shape(), t.toFloatArray());
  }

  static CalibrationSet cast(CalibrationSet c, DataType type) {
    List<Map<String, Tensor>> batches =
        c.batches().stream().map(b -> Map.of("x", cast(b.get("x"), type))).toList();
    return new CalibrationSet(batches, c.identity());
  }
}
