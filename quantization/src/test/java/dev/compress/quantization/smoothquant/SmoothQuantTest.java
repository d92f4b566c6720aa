package dev.compress.quantization.smoothquant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.ptq.TinyEncoder;
import dev.compress.runtime.djl.DjlExecutor;
import dev.compress.runtime.ort.OrtExecutor;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SmoothQuantTest {
  private static final int DIM = 32;

  private static PassContext calibrated() {
    return new PassContext(
        1,
        Optional.of(TinyEncoder.calibration(3, 2, 8, DIM)),
        Optional.empty(),
        ProgressListener.NONE);
  }

  private static float[] ort(ModelGraph m, Tensor x) throws Exception {
    try (OrtExecutor e = OrtExecutor.builder().setModel(m).optIntraOpThreads(1).build()) {
      return e.forward(Map.of("x", x)).get("y").toFloatArray();
    }
  }

  private static float[] djl(ModelGraph m, Tensor x) throws Exception {
    try (DjlExecutor e = DjlExecutor.create(m)) {
      return e.forward(Map.of("x", x)).get("y").toFloatArray();
    }
  }

  private static double maxRelDiff(float[] a, float[] b) {
    double d = 0;
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
      s = Math.max(s, Math.abs(b[i]));
    }
    return d / s;
  }

  @Test
  void leavesTheFloatFunctionUnchangedInOrtAndDjl() throws Exception {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 8, 4);
    Tensor x = TinyEncoder.input(77, 2, 5, DIM);
    float[] before = ort(m, x);
    float[] beforeDjl = djl(m, x);
    PassReport r =
        new SmoothQuantPass(
                SmoothQuantConfig.builder().alpha(0.5).mappings(Map.of()).compensate(true).build())
            .apply(m, calibrated());
    assertThat(r.layersTouched()).containsExactly(TinyEncoder.A, TinyEncoder.B);
    assertThat(r.metrics())
        .containsEntry("norms_smoothed", 1.0)
        .containsEntry("restoring_muls", 1.0);
    // The outlier channels are tamed: the largest |input| shrinks.
    String norm = TinyEncoder.NORM;
    assertThat(r.layerMetrics(norm).get("input_absmax_after"))
        .isLessThan(r.layerMetrics(norm).get("input_absmax_before") / 2);
    // The norm now reads smoothed gamma/beta; the residual reads Mul(n, s).
    Node ln = m.graph().node(norm).orElseThrow();
    assertThat(ln.input(1)).isNotEqualTo("gamma");
    assertThat(m.graph().initializers()).doesNotContainKeys("gamma", "beta", "Wa", "Wb");
    Node residual = m.graph().node("/residual").orElseThrow();
    assertThat(GraphIndex.of(m.graph()).producer(residual.input(1)).orElseThrow().opType())
        .isEqualTo("Mul");

    double dOrt = maxRelDiff(ort(m, x), before);
    double dDjl = maxRelDiff(djl(m, x), beforeDjl);
    System.out.printf("[smoothquant] max relative change: ORT %.2e, DJL %.2e%n", dOrt, dDjl);
    assertThat(dOrt).isLessThan(1e-5);
    assertThat(dDjl).isLessThan(1e-5);
  }

  @Test
  void alphaZeroOnlyDividesByWeightMaxima() throws Exception {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 8, 5);
    float[] wa = m.graph().initializers().get("Wa").toFloatArray();
    float[] wb = m.graph().initializers().get("Wb").toFloatArray();
    new SmoothQuantPass(
            SmoothQuantConfig.builder().alpha(0.0).mappings(Map.of()).compensate(true).build())
        .apply(m, calibrated());
    // s_j = 1 / max_o |W[o, j]| over both layers, so every input column's max becomes 1.
    Node a = m.graph().node(TinyEncoder.A).orElseThrow();
    Node b = m.graph().node(TinyEncoder.B).orElseThrow();
    float[] na = m.graph().constant(a.input(1)).orElseThrow().toFloatArray();
    float[] nb = m.graph().constant(b.input(1)).orElseThrow().toFloatArray();
    for (int j = 0; j < DIM; j++) {
      double max = 0;
      double orig = 0;
      for (int o = 0; o < DIM; o++) {
        max = Math.max(max, Math.max(Math.abs(na[j * DIM + o]), Math.abs(nb[j * DIM + o])));
        orig = Math.max(orig, Math.max(Math.abs(wa[j * DIM + o]), Math.abs(wb[j * DIM + o])));
      }
      assertThat(max).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-5));
      assertThat(orig).isNotCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-3));
    }
  }

  @Test
  void manualMappingsAreCheckedAgainstTheGraph() throws Exception {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 8, 6);
    SmoothQuantPass partial =
        new SmoothQuantPass(
            SmoothQuantConfig.builder()
                .alpha(0.5)
                .mappings(Map.of(TinyEncoder.NORM, List.of(TinyEncoder.A)))
                .compensate(true)
                .build());
    assertThatThrownBy(() -> partial.apply(m, calibrated()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "mappings./ln/LayerNormalization: layer '/b/MatMul' also reads the norm's output");
    SmoothQuantPass wrong =
        new SmoothQuantPass(
            SmoothQuantConfig.builder()
                .alpha(0.5)
                .mappings(Map.of("/nope", List.of(TinyEncoder.A)))
                .compensate(true)
                .build());
    assertThatThrownBy(() -> wrong.apply(m, calibrated()))
        .hasMessageContaining("mappings./nope: no node of that name");
    assertThatThrownBy(
            () ->
                SmoothQuantConfig.builder().alpha(1.5).mappings(Map.of()).compensate(true).build())
        .hasMessage("alpha must be in [0, 1], found 1.5");
    // Without compensation the post-LN norm (its output is also the residual) is skipped.
    PassReport r =
        new SmoothQuantPass(
                SmoothQuantConfig.builder().alpha(0.5).mappings(Map.of()).compensate(false).build())
            .apply(m, calibrated());
    assertThat(r.layersTouched()).isEmpty();
    assertThat(r.layersSkipped()).hasSize(1);
    // Manual mapping of both layers works like the automatic one.
    ModelGraph m2 = TinyEncoder.build(DIM, DIM, 8, 6);
    PassReport r2 =
        new SmoothQuantPass(
                SmoothQuantConfig.builder()
                    .alpha(0.5)
                    .mappings(Map.of(TinyEncoder.NORM, List.of(TinyEncoder.A, TinyEncoder.B)))
                    .compensate(true)
                    .build())
            .apply(m2, calibrated());
    assertThat(r2.layersTouched()).containsExactly(TinyEncoder.A, TinyEncoder.B);
  }
}
