package dev.compress.pruning.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.PassProvider;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StructuredPruningConfigTest {
  @TempDir java.nio.file.Path tmp;

  @Test
  void bindsFromYamlWithPlansAndUnits() throws Exception {
    java.nio.file.Path yaml = tmp.resolve("p.yaml");
    java.nio.file.Files.writeString(
        yaml,
        String.join(
            "\n",
            "apiVersion: compress/v1",
            "kind: Pipeline",
            "model: builtin:all-minilm-l6-v2",
            "passes:",
            "  - type: structured-pruning",
            "    units: [neurons]",
            "    budget: params",
            "    kept: 0.7",
            "    importance: weight-norm",
            "    rescale: none",
            "    removed: {'re:/encoder/layer\\.0/.*': 0.25}",
            "output:",
            "  dir: out/x",
            ""));
    var spec =
        dev.compress.api.pipeline.PipelineSpec.load(
            yaml, dev.compress.api.pipeline.PassRegistry.load());
    StructuredPruningConfig c = (StructuredPruningConfig) spec.passes().get(0).config();
    assertThat(c.units()).containsExactly(DependencyGroup.Kind.NEURONS);
    assertThat(c.budget()).isEqualTo(StructuredPruningConfig.Budget.PARAMS);
    assertThat(c.kept()).isEqualTo(0.7);
    assertThat(c.removed()).containsEntry("re:/encoder/layer\\.0/.*", 0.25);
    assertThat(c.needsCalibration()).isFalse();
  }

  @Test
  void bindsChannelsAndTheNewImportancesFromYaml() throws Exception {
    for (String imp : new String[] {"filter-l1", "filter-l2", "bn-scale", "taylor", "fisher"}) {
      java.nio.file.Path yaml = tmp.resolve(imp + ".yaml");
      java.nio.file.Files.writeString(
          yaml,
          String.join(
              "\n",
              "apiVersion: compress/v1",
              "kind: Pipeline",
              "model: builtin:all-minilm-l6-v2",
              "passes:",
              "  - type: structured-pruning",
              "    units: [channels]",
              "    importance: " + imp,
              "    rescale: none",
              "output:",
              "  dir: out/x",
              ""));
      var spec =
          dev.compress.api.pipeline.PipelineSpec.load(
              yaml, dev.compress.api.pipeline.PassRegistry.load());
      StructuredPruningConfig c = (StructuredPruningConfig) spec.passes().get(0).config();
      assertThat(c.units()).containsExactly(DependencyGroup.Kind.CHANNELS);
      assertThat(c.importance().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'))
          .isEqualTo(imp);
      assertThat(c.needsCalibration()).isEqualTo(imp.equals("taylor") || imp.equals("fisher"));
    }
  }

  @Test
  void listsEveryProblemNamingTheKey() {
    assertThatThrownBy(
            () ->
                StructuredPruningConfig.builder()
                    .units()
                    .budget(null)
                    .kept(1.5)
                    .importance(null)
                    .rescale(null)
                    .biasCompensation(false)
                    .damping(-1)
                    .removed(Map.of("re:(", 0.5))
                    .build())
        .isInstanceOfSatisfying(
            InvalidConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "units must name heads, neurons and/or channels, found []",
                        "budget must be flops or params, found null",
                        "kept must be in (0, 1] (the fraction of the budget kept), found 1.5",
                        "importance must be weight-norm, activation, fluctuation, filter-l1,"
                            + " filter-l2, bn-scale, taylor or fisher, found null",
                        "rescale must be none or least-squares, found null",
                        "damping must be >= 0, found -1.0",
                        "removed['re:('] is not a valid regex (Unclosed group)"));
  }

  @Test
  void providerIsRegisteredAndDocumentsEveryKey() {
    PassProvider<?> p =
        ServiceLoader.load(PassProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(x -> x.type().equals("structured-pruning"))
            .findFirst()
            .orElseThrow();
    assertThat(p.configType()).isEqualTo(StructuredPruningConfig.class);
    assertThat(p.defaults()).isEqualTo(StructuredPruningConfig.defaults());
    List<String> keys =
        Arrays.stream(StructuredPruningConfig.class.getRecordComponents())
            .map(RecordComponent::getName)
            .filter(n -> !n.equals("selection"))
            .toList();
    assertThat(p.parameters()).extracting(PassProvider.ParamDoc::name).isEqualTo(keys);
    assertThat(p.needsCalibration()).isTrue();
  }
}
