package dev.compress.pruning.structured;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.DecoderConfig;
import dev.compress.fixtures.EncoderConfig;
import dev.compress.fixtures.TinyModels;
import dev.compress.runtime.ort.OrtExecutor;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules on the shared fixtures' fused models (StructuredPruningPassTest covers the
 * decomposed export patterns of {@link dev.compress.fixtures.ExportedEncoder}): the post-norm
 * encoder (fused LayerNormalization) and the pre-norm decoder whose SwiGLU ties gate and up
 * projections into one neuron group; a data-free cut runs in ORT.
 */
class FixtureModelsTest {
  static StructuredPruningConfig weightNorm(double kept) {
    return StructuredPruningConfig.builder()
        .budget(StructuredPruningConfig.Budget.FLOPS)
        .kept(kept)
        .importance(StructuredPruningConfig.Importance.WEIGHT_NORM)
        .rescale(StructuredPruningConfig.Rescale.NONE)
        .biasCompensation(false)
        .damping(0)
        .removed(Map.of())
        .build();
  }

  static long parameters(ModelGraph m) {
    return m.graph().initializers().values().stream().mapToLong(Tensor::elementCount).sum();
  }

  static Map<String, Tensor> ids(ModelGraph m) {
    Map<String, Tensor> in = new java.util.LinkedHashMap<>();
    in.put(
        TinyModels.INPUT_IDS,
        Tensor.ofLongs(TinyModels.INPUT_IDS, new long[] {1, 5}, 1, 7, 3, 9, 2));
    if (m.graph().inputs().stream().anyMatch(v -> v.name().equals(TinyModels.ATTENTION_MASK))) {
      in.put(
          TinyModels.ATTENTION_MASK,
          Tensor.ofLongs(TinyModels.ATTENTION_MASK, new long[] {1, 5}, 1, 1, 1, 1, 1));
    }
    return in;
  }

  static void runs(ModelGraph m) throws Exception {
    try (OrtExecutor ort = OrtExecutor.builder().setModel(m).optIntraOpThreads(1).build()) {
      Map<String, Tensor> in = new java.util.LinkedHashMap<>();
      Map<String, Tensor> all = ids(m);
      for (String n : ort.inputNames()) {
        in.put(n, all.get(n));
      }
      assertThat(ort.forward(in)).isNotEmpty();
    }
  }

  @Test
  void encoderFixtureHasHeadAndNeuronGroupsAndPrunes() throws Exception {
    ModelGraph m = TinyModels.encoder(EncoderConfig.tiny(2, 5));
    DependencyGroups dg = DependencyGroups.of(m);
    assertThat(dg.groups())
        .extracting(DependencyGroup::kind)
        .containsExactly(
            DependencyGroup.Kind.HEADS,
            DependencyGroup.Kind.NEURONS,
            DependencyGroup.Kind.HEADS,
            DependencyGroup.Kind.NEURONS);
    assertThat(dg.refused().values()).anyMatch(s -> s.contains("(LayerNormalization)"));
    long before = parameters(m);
    PassReport r = new StructuredPruningPass(weightNorm(0.6)).apply(m, PassContext.of(0));
    assertThat(r.metrics().get("linear_flops_kept_fraction")).isLessThanOrEqualTo(0.6);
    assertThat(parameters(m)).isLessThan(before);
    runs(m);
  }

  @Test
  void decoderFixtureTiesGateAndUpIntoOneGroup() throws Exception {
    ModelGraph m = TinyModels.decoder(DecoderConfig.tiny(1, 5));
    DependencyGroups dg = DependencyGroups.of(m);
    DependencyGroup mlp =
        dg.groups().stream()
            .filter(g -> g.kind() == DependencyGroup.Kind.NEURONS)
            .findFirst()
            .orElseThrow();
    assertThat(mlp.sources()).extracting(l -> l.name()).allMatch(n -> n.contains("_proj"));
    assertThat(mlp.sources()).hasSize(2); // gate_proj and up_proj
    assertThat(dg.groups())
        .as(dg.refused().toString())
        .anyMatch(g -> g.kind() == DependencyGroup.Kind.HEADS);
    new StructuredPruningPass(weightNorm(0.6)).apply(m, PassContext.of(0));
    runs(m);
  }
}
