package dev.compress.quantization.fp8;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.gptq.GptqOrtTest;
import dev.compress.runtime.ort.OrtExecutor;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * FP8 on an MLP with f16 or bf16 weights: FLOAT8 codes from the half values, the weight's
 * DequantizeLinear (f32 scales) followed by a Cast to the weight's type, and with activations the
 * scale and the cast back in the activation's type; the model computes what the same weights
 * widened to f32 compute through the f32 path (f16 in ONNX Runtime as is; bf16 widened after the
 * pass: ONNX Runtime's CPU provider has no bf16 kernels).
 */
class Fp8HalfPrecisionTest {
  // Measured relative to max |y|: f16 weights only 3.2e-4, f16 with activations 3.5e-3 (f16
  // activations calibrate slightly different scales), bf16 weights only 0 (widened).
  @ParameterizedTest
  @CsvSource({"FLOAT16,false,2e-3", "FLOAT16,true,0.01", "BFLOAT16,false,0"})
  void halfWeightsAreEncodedAndComputeWhatF32Computes(
      DataType type, boolean activations, double bound) throws Exception {
    Fp8Config cfg =
        Fp8Config.builder()
            .format(Fp8Format.E4M3FN)
            .perChannel(true)
            .activations(activations)
            .upgradeOpset(true)
            .build();
    CalibrationSet cal = GptqOrtTest.calibration();
    ModelGraph ref = GptqOrtTest.mlp(1);
    FloatPrecision.convert(ref, type);
    FloatPrecision.convert(ref, DataType.FLOAT);
    PassReport want = new Fp8Pass(cfg).apply(ref, context(cal));
    ModelGraph half = GptqOrtTest.mlp(1);
    FloatPrecision.convert(half, type);
    PassReport got = new Fp8Pass(cfg).apply(half, context(cast(cal, type)));
    assertThat(got.layersTouched()).containsExactly("/fc1/MatMul", "/fc2/Gemm");
    for (String l : got.layersTouched()) {
      assertThat(got.layerMetrics(l).get("weight_sqnr_db"))
          .isEqualTo(want.layerMetrics(l).get("weight_sqnr_db"));
    }

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
      feed = cast(x, type);
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
        "[fp8-half] %s activations=%s: max |diff| %.2e of max %.2f (%.1e relative)%n",
        type, activations, maxDiff, maxAbs, maxDiff / maxAbs);
    assertThat(maxDiff).isLessThanOrEqualTo(bound * maxAbs);
  }

  @Test
  void bf16ActivationsAreRefusedBeforeCalibration() {
    ModelGraph m = GptqOrtTest.mlp(1);
    FloatPrecision.convert(m, DataType.BFLOAT16);
    Fp8Config cfg =
        Fp8Config.builder()
            .format(Fp8Format.E4M3FN)
            .perChannel(true)
            .activations(true)
            .upgradeOpset(true)
            .build();
    assertThatThrownBy(() -> new Fp8Pass(cfg).apply(m, context(GptqOrtTest.calibration())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("BFLOAT16 (first: ")
        .hasMessageContaining("HINT: set activations: false");
  }

  private static PassContext context(CalibrationSet c) {
    return new PassContext(0, Optional.of(c), Optional.empty(), ProgressListener.NONE);
  }

  private static Tensor cast(Tensor t, DataType type) {
    return Tensor.ofFloats(t.name(), type, t.shape(), t.toFloatArray());
  }

  private static CalibrationSet cast(CalibrationSet c, DataType type) {
    List<Map<String, Tensor>> batches =
        c.batches().stream().map(b -> Map.of("x", cast(b.get("x"), type))).toList();
    return new CalibrationSet(batches, c.identity());
  }
}
