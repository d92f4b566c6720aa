package dev.compress.quantization.smoothquant;

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
import dev.compress.quantization.ptq.TinyEncoder;
import dev.compress.runtime.ort.OrtExecutor;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * SmoothQuant on the post-LN block of {@link TinyEncoder} converted to f16: calibrated in f16
 * (DJL), the scaled norm parameters, the scaled weights and the residual's restoring scale are
 * written in f16; in ONNX Runtime the smoothed f16 block computes what the f16 block computed
 * before (the transformation is exact in real arithmetic). bf16 is refused before calibration.
 */
class SmoothQuantHalfPrecisionTest {
  private static final int DIM = 32;

  @Test
  void f16NormsAndWeightsAreScaledInTheirType() throws Exception {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 8, 4);
    FloatPrecision.convert(m, DataType.FLOAT16);
    Tensor x = cast(TinyEncoder.input(77, 2, 5, DIM), DataType.FLOAT16);
    float[] before = ort(m, x);
    PassReport r =
        new SmoothQuantPass(
                SmoothQuantConfig.builder().alpha(0.5).mappings(Map.of()).compensate(true).build())
            .apply(m, context(cast(TinyEncoder.calibration(3, 2, 8, DIM), DataType.FLOAT16)));
    assertThat(r.layersTouched()).containsExactly(TinyEncoder.A, TinyEncoder.B);
    assertThat(r.metrics()).containsEntry("restoring_muls", 1.0);
    assertThat(r.layerMetrics(TinyEncoder.NORM).get("input_absmax_after"))
        .isLessThan(r.layerMetrics(TinyEncoder.NORM).get("input_absmax_before") / 2);
    m.graph().initializers().values().stream()
        .filter(t -> t.dtype().isFloatingPoint())
        .forEach(t -> assertThat(t.dtype()).as(t.name()).isEqualTo(DataType.FLOAT16));
    float[] after = ort(m, x);
    double d = 0;
    double s = 0;
    for (int i = 0; i < before.length; i++) {
      d = Math.max(d, Math.abs(before[i] - after[i]));
      s = Math.max(s, Math.abs(before[i]));
    }
    System.out.printf(
        "[smoothquant-half] f16: max |diff| %.2e of max %.2f (%.1e relative)%n", d, s, d / s);
    assertThat(d).isLessThan(3e-3 * s); // measured 4.0e-4 relative (f16 rounding of the scaling)
  }

  @Test
  void bf16IsRefusedBeforeCalibration() {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 8, 4);
    FloatPrecision.convert(m, DataType.BFLOAT16);
    assertThatThrownBy(
            () ->
                new SmoothQuantPass(
                        SmoothQuantConfig.builder()
                            .alpha(0.5)
                            .mappings(Map.of())
                            .compensate(true)
                            .build())
                    .apply(m, context(TinyEncoder.calibration(3, 2, 8, DIM))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("BFLOAT16")
        .hasMessageContaining("HINT");
  }

  private static float[] ort(ModelGraph m, Tensor x) throws Exception {
    try (OrtExecutor e = OrtExecutor.builder().setModel(m).optIntraOpThreads(1).build()) {
      return e.forward(Map.of("x", x)).get("y").toFloatArray();
    }
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
