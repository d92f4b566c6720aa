package dev.compress.pruning;

import static dev.compress.fixtures.BuilderChecks.assertSameMessageAsYaml;
import static dev.compress.fixtures.BuilderChecks.assertSettersLand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.pruning.magnitude.MagnitudePruningConfig;
import dev.compress.pruning.magnitude.MagnitudePruningProvider;
import dev.compress.pruning.sparsegpt.SparseGptConfig;
import dev.compress.pruning.sparsegpt.SparseGptProvider;
import dev.compress.pruning.structured.DependencyGroup;
import dev.compress.pruning.structured.StructuredPruningConfig;
import dev.compress.pruning.structured.StructuredPruningProvider;
import dev.compress.pruning.wanda.WandaConfig;
import dev.compress.pruning.wanda.WandaProvider;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The pruning configs' builders: no setter gives the provider's defaults, each setter lands in its
 * key, and a bad value fails at build() with the YAML's message for the same key.
 */
class ConfigBuildersTest {
  @Test
  void noSetterGivesTheDefaults() {
    assertThat(MagnitudePruningConfig.builder().build())
        .isEqualTo(new MagnitudePruningProvider().defaults());
    assertThat(SparseGptConfig.builder().build()).isEqualTo(new SparseGptProvider().defaults());
    assertThat(StructuredPruningConfig.builder().build())
        .isEqualTo(new StructuredPruningProvider().defaults());
    assertThat(WandaConfig.builder().build()).isEqualTo(new WandaProvider().defaults());
  }

  @Test
  void eachSetterLandsInItsKey() {
    assertSettersLand(MagnitudePruningConfig::builder, Map.of("pattern", "2:4"));
    assertSettersLand(
        SparseGptConfig::builder, Map.of("pattern", "2:4", "blockPattern", "blk\\.(\\d+)\\."));
    assertSettersLand(
        StructuredPruningConfig::builder,
        Map.of(
            "units",
            new DependencyGroup.Kind[] {DependencyGroup.Kind.HEADS},
            "removed",
            Map.of("re:.*fc1", 0.5),
            "teacher",
            "teacher.onnx"));
    assertSettersLand(
        WandaConfig::builder, Map.of("pattern", "4:8", "blockPattern", "blk\\.(\\d+)\\."));
  }

  @Test
  void badValuesFailAtBuildWithTheYamlMessage() {
    assertThat(
            assertSameMessageAsYaml(
                "magnitude-pruning",
                "sparsity: 1.5, pattern: '2:4', scope: global",
                () ->
                    MagnitudePruningConfig.builder()
                        .sparsity(1.5)
                        .pattern("2:4")
                        .scope(MagnitudePruningConfig.Scope.GLOBAL)
                        .build()))
        .hasSize(2);
    assertSameMessageAsYaml(
        "sparsegpt",
        "pattern: '2:4', blockSize: 6",
        () -> SparseGptConfig.builder().pattern("2:4").blockSize(6).build());
    assertSameMessageAsYaml(
        "structured-pruning", "kept: 0", () -> StructuredPruningConfig.builder().kept(0).build());
    assertSameMessageAsYaml(
        "wanda",
        "blockPattern: 'no-group', targets: ['']",
        () -> WandaConfig.builder().blockPattern("no-group").targets("").build());
  }
}
