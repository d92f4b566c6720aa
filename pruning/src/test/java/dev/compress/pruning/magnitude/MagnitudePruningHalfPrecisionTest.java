package dev.compress.pruning.magnitude;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.pruning.magnitude.MagnitudePruningConfig.Scope;
import dev.compress.runtime.ort.OrtExecutor;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Magnitude pruning of an MLP whose weights are f16 or bf16 ({@link FloatPrecision}): the pruned
 * weights stay in their type, and the model computes what the same weights widened to f32 and
 * pruned compute: the same entries are cut (magnitudes compare alike after exact widening), so the
 * only difference is the half type's arithmetic (f16 runs in ONNX Runtime; bf16, which its CPU
 * provider has no kernels for, is widened to f32 after the pass, so it must match exactly).
 */
class MagnitudePruningHalfPrecisionTest {
  @ParameterizedTest
  @EnumSource(
      value = DataType.class,
      names = {"FLOAT16", "BFLOAT16"})
  void halfWeightsArePrunedInTheirType(DataType type) throws Exception {
    MagnitudePruningPass pass =
        new MagnitudePruningPass(
            MagnitudePruningConfig.builder().sparsity(0.5).scope(Scope.GLOBAL).build());
    ModelGraph ref = MagnitudePruningPassTest.mlp(3);
    FloatPrecision.convert(ref, type);
    FloatPrecision.convert(ref, DataType.FLOAT);
    PassReport want = pass.apply(ref, PassContext.of(0));
    ModelGraph half = MagnitudePruningPassTest.mlp(3);
    FloatPrecision.convert(half, type);
    PassReport got = pass.apply(half, PassContext.of(0));

    assertThat(half.graph().initializers().get("W1").dtype()).isEqualTo(type);
    assertThat(half.graph().initializers().get("W2").dtype()).isEqualTo(type);
    assertThat(got.layerMetrics()).isEqualTo(want.layerMetrics());
    assertThat(got.metrics().get("sparsity")).isEqualTo(want.metrics().get("sparsity"));
    assertThat(got.bytesBefore()).isEqualTo(want.bytesBefore() / 2); // 2 bytes per weight

    Tensor x = input();
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
        "[prune-half] %s: max |diff| %.2e of max %.2f (%.1e relative)%n",
        type, maxDiff, maxAbs, maxDiff / maxAbs);
    // Measured: f16 4.4e-4 relative (f16 arithmetic); bf16 0 (widened: identical f32 models).
    assertThat(maxDiff).isLessThanOrEqualTo((type == DataType.FLOAT16 ? 2e-3 : 0) * maxAbs);
  }

  private static Tensor input() {
    Random r = new Random(11);
    float[] v = new float[8 * MagnitudePruningPassTest.IN];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return Tensor.ofFloats("x", new long[] {8, MagnitudePruningPassTest.IN}, v);
  }
}
