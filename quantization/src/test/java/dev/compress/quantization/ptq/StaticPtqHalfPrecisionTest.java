package dev.compress.quantization.ptq;

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
import dev.compress.fixtures.OrtCpu;
import dev.compress.runtime.ort.OrtExecutor;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Static W8A8 on {@link TinyEncoder} converted to f16: activations calibrated on the widened f32
 * copy, each activation Q/DQ on the input widened to f32 and cast back, weights int8 behind
 * DequantizeLinear then a Cast to f16; biases and norm parameters stay f16. Held against the same
 * pass on the f32 model in ONNX Runtime. bf16 is refused before calibration with one line.
 */
class StaticPtqHalfPrecisionTest {
  private static final int DIM = 32;

  private static StaticPtqConfig config() {
    return StaticPtqConfig.builder()
        .observer("minmax")
        .percentile(99.99)
        .averagingConstant(0.01)
        .activationSymmetric(false)
        .embeddings(false)
        .reduceRange(!OrtCpu.exactU8S8()) // exact integer products in ORT on every CPU
        .build();
  }

  @Test
  void f16ModelIsQuantizedAndKeepsItsType() throws Exception {
    ModelGraph f32 = TinyEncoder.build(DIM, DIM, 8, 4);
    ModelGraph f16 = TinyEncoder.build(DIM, DIM, 8, 4);
    FloatPrecision.convert(f16, DataType.FLOAT16);
    Tensor x = TinyEncoder.input(77, 2, 5, DIM);
    float[] reference = ort(f32, x);
    CalibrationSet cal = TinyEncoder.calibration(3, 2, 8, DIM);
    new StaticPtqPass(config()).apply(f32, context(cal));
    PassReport r = new StaticPtqPass(config()).apply(f16, context(half(cal)));
    assertThat(r.layersTouched()).contains(TinyEncoder.A, TinyEncoder.B, TinyEncoder.OUT);
    // What is not quantized (norm, biases) is still f16; Q/DQ scales are f32 scalars.
    for (String name : List.of("gamma", "beta", "ba", "b2")) {
      assertThat(f16.graph().initializers().get(name).dtype()).as(name).isEqualTo(DataType.FLOAT16);
    }
    long casts = f16.graph().nodes().stream().filter(n -> n.opType().equals("Cast")).count();
    assertThat(casts).isEqualTo(2 * 2 + 3); // 2 activations x (to f32, back), 3 weights
    float[] q32 = ort(f32, x);
    float[] q16 = ort(f16, half(x));
    double d16 = 0;
    double d32 = 0;
    double dq = 0;
    double s = 0;
    for (int i = 0; i < reference.length; i++) {
      s = Math.max(s, Math.abs(reference[i]));
      d32 = Math.max(d32, Math.abs(q32[i] - reference[i]));
      d16 = Math.max(d16, Math.abs(q16[i] - reference[i]));
      dq = Math.max(dq, Math.abs(q16[i] - q32[i]));
    }
    System.out.printf(
        "[ptq-static-half] max |diff| to f32 float: f32 W8A8 %.3e, f16 W8A8 %.3e; f16 vs f32 W8A8"
            + " %.3e (of max %.2f)%n",
        d32, d16, dq, s);
    assertThat(d16).isLessThan(2 * d32 + 1e-2 * s); // measured 0.269 (f32 W8A8 0.253, max 9.67)
    assertThat(dq).isLessThan(0.05 * s); // measured 0.138 (codes at f16 rounding boundaries)
  }

  @Test
  void bf16IsRefusedBeforeCalibrationInOneLine() {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 8, 4);
    FloatPrecision.convert(m, DataType.BFLOAT16);
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                new StaticPtqPass(config())
                    .apply(m, context(TinyEncoder.calibration(3, 2, 8, DIM))));
    assertThat(e.problems()).hasSize(1);
    assertThat(e.problems().getFirst())
        .contains("3 weights are BFLOAT16 (first: Wa)", "ptq-static calibrates", "HINT");
  }

  private static float[] ort(ModelGraph m, Tensor x) throws Exception {
    try (OrtExecutor e = OrtExecutor.builder().setModel(m).optIntraOpThreads(1).build()) {
      return e.forward(Map.of("x", x)).get("y").toFloatArray();
    }
  }

  private static PassContext context(CalibrationSet c) {
    return new PassContext(0, Optional.of(c), Optional.empty(), ProgressListener.NONE);
  }

  private static Tensor half(Tensor t) {
    return Tensor.ofFloats(t.name(), DataType.FLOAT16, t.shape(), t.toFloatArray());
  }

  private static CalibrationSet half(CalibrationSet c) {
    List<Map<String, Tensor>> batches =
        c.batches().stream().map(b -> Map.of("x", half(b.get("x")))).toList();
    return new CalibrationSet(batches, c.identity());
  }
}
