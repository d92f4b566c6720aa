package dev.compress.pruning.magnitude;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.ResidualBlocks;
import dev.compress.pruning.magnitude.MagnitudePruningConfig.Scope;
import dev.compress.pruning.mask.SparsityReport;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** N:M magnitude pruning: groups along the reduction dimension, whatever the weight layout. */
class MagnitudeNofMTest {
  static final String FC1 = MagnitudePruningPassTest.FC1; // MatMul, W1 stored [in 64, out 48]
  static final String FC2 = MagnitudePruningPassTest.FC2; // Gemm transB, W2 stored [out 16, in 48]

  private static float[] weight(ModelGraph m, String name) {
    return m.graph().constant(name).orElseThrow().toFloatArray();
  }

  private static MagnitudePruningConfig nm(String pattern) {
    return MagnitudePruningConfig.builder()
        .sparsity(0.5)
        .scope(Scope.PER_LAYER)
        .pattern(pattern)
        .build();
  }

  /** Checks every group of {@code m} inputs of every output row of a stored weight. */
  private static void checkGroups(
      float[] before, float[] after, int in, int out, boolean inOut, int n, int m) {
    for (int o = 0; o < out; o++) {
      for (int g = 0; g < in; g += m) {
        int zeros = 0;
        float maxPruned = 0;
        float minKept = Float.MAX_VALUE;
        for (int k = 0; k < m; k++) {
          int idx = inOut ? (g + k) * out + o : o * in + g + k;
          if (after[idx] == 0f) {
            zeros++;
            maxPruned = Math.max(maxPruned, Math.abs(before[idx]));
          } else {
            assertThat(after[idx]).isEqualTo(before[idx]);
            minKept = Math.min(minKept, Math.abs(before[idx]));
          }
        }
        assertThat(zeros).as("row %d group %d", o, g).isEqualTo(n);
        assertThat(maxPruned).isLessThanOrEqualTo(minKept);
      }
    }
  }

  @Test
  void twoOfFourAndFourOfEightAlongTheInputsOfEveryRow() throws Exception {
    for (int[] p : new int[][] {{2, 4}, {4, 8}, {1, 4}}) {
      ModelGraph m = MagnitudePruningPassTest.mlp(3);
      float[] w1 = weight(m, "W1");
      float[] w2 = weight(m, "W2");
      MagnitudePruningPass pass = new MagnitudePruningPass(nm(p[0] + ":" + p[1]));
      PassReport r = pass.apply(m, PassContext.of(0));
      checkGroups(w1, weight(m, "W1"), 64, 48, true, p[0], p[1]);
      checkGroups(w2, weight(m, "W2"), 48, 16, false, p[0], p[1]);
      double s = (double) p[0] / p[1];
      assertThat(r.layerMetrics(FC1)).containsEntry("sparsity", s);
      assertThat(r.layerMetrics(FC2)).containsEntry("sparsity", s);
      assertThat(r.metrics()).containsEntry("ort_cpu_speedup", 1.0);
      assertThat(r.warnings())
          .extracting(PassReport.Note::message)
          .contains(SparsityReport.RUNTIME_NOTE);
    }
  }

  @Test
  void badInputIsOneLineNamingTheKeyAndNothingChanges() throws Exception {
    assertThatThrownBy(() -> nm("4:4"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage("pattern N:M must have 0 < N < M (N weights zeroed in every M), found 4:4");
    assertThatThrownBy(() -> nm("0:4"))
        .hasMessage("pattern N:M must have 0 < N < M (N weights zeroed in every M), found 0:4");
    assertThatThrownBy(
            () ->
                MagnitudePruningConfig.builder()
                    .sparsity(0.5)
                    .scope(Scope.GLOBAL)
                    .pattern("2:4")
                    .build())
        .hasMessage("scope must be PER_LAYER with pattern 2:4 (N:M is per row), found GLOBAL");
    assertThatThrownBy(
            () ->
                MagnitudePruningConfig.builder()
                    .sparsity(1.0)
                    .scope(Scope.PER_LAYER)
                    .pattern("2:4")
                    .build())
        .hasMessage("sparsity must be in [0, 1), found 1.0");
    ModelGraph m = ResidualBlocks.build(1, 12, 1); // up: 12 inputs, down: 24
    Map<String, Tensor> before = Map.copyOf(m.graph().initializers());
    assertThatThrownBy(() -> new MagnitudePruningPass(nm("4:8")).apply(m, PassContext.of(0)))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "layer '/layer.0/up/MatMul': pattern 4:8 needs its input features to be a multiple of"
                + " 8, found 12");
    assertThat(m.graph().initializers()).isEqualTo(before);
    // the other layer alone is fine
    assertThat(
            new MagnitudePruningPass(
                    MagnitudePruningConfig.builder()
                        .targets("re:.*down.*")
                        .sparsity(0.5)
                        .scope(Scope.PER_LAYER)
                        .pattern("4:8")
                        .build())
                .apply(m, PassContext.of(0))
                .layerMetrics("/layer.0/down/MatMul"))
        .containsEntry("sparsity", 0.5);
  }
}
