package dev.compress.pruning.wanda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.calibration.blocks.BlockSequentialCalibrator;
import dev.compress.calibration.hessian.HessianAccumulator;
import dev.compress.fixtures.ResidualBlocks;
import dev.compress.pruning.magnitude.MagnitudePruningConfig;
import dev.compress.pruning.magnitude.MagnitudePruningPass;
import dev.compress.pruning.mask.ScoreMasks;
import dev.compress.pruning.mask.SparsityPattern;
import dev.compress.pruning.mask.SparsityReport;
import dev.compress.pruning.mask.WeightView;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The wanda pass on two residual MLP blocks: known answers, sequential calibration, bad input. */
class WandaPassTest {
  static final int D = 16;

  static PassContext context(CalibrationSet c) {
    return new PassContext(0, Optional.of(c), Optional.empty(), ProgressListener.NONE);
  }

  static CalibrationSet calibration(int d) {
    return ResidualBlocks.calibration(3, 2, 8, d, 5);
  }

  static float[] outByIn(ModelGraph m, LinearLayer l) {
    return WeightView.outByIn(m.graph().constant(l.weight()).orElseThrow().toFloatArray(), l);
  }

  @Test
  void withEqualActivationNormsItIsMagnitudePruning() throws Exception {
    ModelGraph m = ResidualBlocks.build(2, D, 1);
    ModelGraph nm = ResidualBlocks.build(2, D, 1);
    new MagnitudePruningPass(
            MagnitudePruningConfig.builder()
                .sparsity(0.5)
                .scope(MagnitudePruningConfig.Scope.PER_LAYER)
                .pattern("2:4")
                .build())
        .apply(nm, PassContext.of(0));
    for (LinearLayer l : LinearLayers.of(m.graph())) {
      int rows = (int) l.outFeatures();
      int cols = (int) l.inFeatures();
      float[] w = outByIn(m, l);
      double[] ones = new double[cols];
      Arrays.fill(ones, 3.0);
      // N:M: the magnitude pass's own result
      boolean[] wanda = WandaPass.mask(w, rows, cols, ones, new SparsityPattern(2, 4), 0);
      float[] mag = outByIn(nm, l);
      for (int i = 0; i < w.length; i++) {
        assertThat(wanda[i]).as("%s %d", l.name(), i).isEqualTo(mag[i] == 0f);
      }
      // unstructured: magnitude compared within each row
      double[] abs = new double[w.length];
      for (int i = 0; i < w.length; i++) {
        abs[i] = Math.abs(w[i]);
      }
      assertThat(WandaPass.mask(w, rows, cols, ones, SparsityPattern.UNSTRUCTURED, 0.3))
          .containsExactly(ScoreMasks.perRow(abs, rows, cols, 0.3));
    }
  }

  @Test
  void prunesEachRowExactlyWithoutUpdatingAndBlocksInSequence() throws Exception {
    ModelGraph original = ResidualBlocks.build(2, D, 1);
    ModelGraph m = ResidualBlocks.build(2, D, 1);
    WandaPass pass =
        new WandaPass(WandaConfig.builder().sparsity(0.5).pattern(null).blockPattern(null).build());
    PassReport r = pass.apply(m, context(calibration(D)));
    assertThat(r.layersTouched()).hasSize(4);
    assertThat(r.warnings())
        .extracting(PassReport.Note::message)
        .contains(SparsityReport.RUNTIME_NOTE);
    List<LinearLayer> layers = LinearLayers.of(m.graph());
    for (LinearLayer l : layers) {
      assertThat(r.layerMetrics(l.name()).get("sparsity")).isEqualTo(0.5);
      float[] w = outByIn(original, l);
      float[] p = outByIn(m, l);
      int cols = (int) l.inFeatures();
      for (int row = 0; row < l.outFeatures(); row++) {
        int z = 0;
        for (int c = 0; c < cols; c++) {
          int i = row * cols + c;
          z += p[i] == 0f ? 1 : 0;
          assertThat(p[i]).isIn(0f, w[i]); // no weight update
        }
        assertThat(z).isEqualTo(cols / 2); // compared within each output row
      }
    }
    // Block 1's masks come from its inputs after block 0 was pruned.
    ModelGraph half = ResidualBlocks.build(2, D, 1);
    for (LinearLayer l : layers.subList(0, 2)) {
      half.graph().putInitializer(m.graph().initializers().get(l.weight()));
    }
    List<LinearLayer> second = LinearLayers.of(half.graph()).subList(2, 4);
    Map<String, HessianAccumulator> h =
        new BlockSequentialCalibrator(half, context(calibration(D)))
            .capture(calibration(D), second);
    for (LinearLayer l : second) {
      int rows = (int) l.outFeatures();
      int cols = (int) l.inFeatures();
      double[] hh = h.get(l.name()).hessian();
      double[] diag = new double[cols];
      for (int j = 0; j < cols; j++) {
        diag[j] = hh[j * cols + j];
      }
      boolean[] expect =
          WandaPass.mask(outByIn(original, l), rows, cols, diag, SparsityPattern.UNSTRUCTURED, 0.5);
      float[] p = outByIn(m, l);
      for (int i = 0; i < p.length; i++) {
        assertThat(p[i] == 0f).as("%s %d", l.name(), i).isEqualTo(expect[i]);
      }
    }
  }

  @Test
  void nOfMPatternIsExactInEveryGroup() throws Exception {
    ModelGraph m = ResidualBlocks.build(2, D, 1);
    PassReport r =
        new WandaPass(WandaConfig.builder().sparsity(0).pattern("4:8").blockPattern(null).build())
            .apply(m, context(calibration(D)));
    assertThat(r.metrics()).containsEntry("sparsity", 0.5);
    for (LinearLayer l : LinearLayers.of(m.graph())) {
      float[] p = outByIn(m, l);
      for (int g = 0; g < p.length; g += 8) {
        int z = 0;
        for (int k = 0; k < 8; k++) {
          z += p[g + k] == 0f ? 1 : 0;
        }
        assertThat(z).isEqualTo(4);
      }
    }
  }

  @Test
  void badInputIsOneLineNamingTheKeyAndNothingChanges() {
    assertThatThrownBy(
            () -> WandaConfig.builder().sparsity(1.0).pattern(null).blockPattern(null).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("sparsity must be in [0, 1), found 1.0");
    assertThatThrownBy(
            () -> WandaConfig.builder().sparsity(0.5).pattern("2:2").blockPattern(null).build())
        .hasMessage("pattern N:M must have 0 < N < M (N weights zeroed in every M), found 2:2");
    ModelGraph m = ResidualBlocks.build(1, 12, 1); // up: 12 inputs, down: 24
    Map<String, Tensor> before = Map.copyOf(m.graph().initializers());
    assertThatThrownBy(
            () ->
                new WandaPass(
                        WandaConfig.builder().sparsity(0).pattern("4:8").blockPattern(null).build())
                    .apply(m, context(calibration(12))))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "layer '/layer.0/up/MatMul': pattern 4:8 needs its input features to be a multiple of"
                + " 8, found 12");
    assertThat(m.graph().initializers()).isEqualTo(before);
  }
}
