package dev.compress.distillation;

import static dev.compress.fixtures.BuilderChecks.assertSameMessageAsYaml;
import static dev.compress.fixtures.BuilderChecks.assertSettersLand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.distillation.distill.DistillConfig;
import dev.compress.distillation.distill.DistillProvider;
import dev.compress.distillation.layerdrop.LayerDropConfig;
import dev.compress.distillation.layerdrop.LayerDropProvider;
import dev.compress.training.distill.LossTerm;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The distillation configs' builders: no setter gives the provider's defaults, each setter lands in
 * its key, and a bad value fails at build() with the YAML's message for the same key.
 */
class ConfigBuildersTest {
  @Test
  void noSetterGivesTheDefaults() {
    assertThat(DistillConfig.builder().build()).isEqualTo(new DistillProvider().defaults());
    assertThat(LayerDropConfig.builder().build()).isEqualTo(new LayerDropProvider().defaults());
  }

  @Test
  void eachSetterLandsInItsKey() {
    assertSettersLand(
        DistillConfig::builder,
        Map.of(
            "teacher",
            "teacher.onnx",
            "losses",
            new LossTerm[] {LossTerm.of(LossTerm.Kind.HIDDEN_MSE)}));
    assertSettersLand(
        LayerDropConfig::builder,
        Map.of("keep", new Integer[] {0, 3}, "blockPattern", "blk\\.(\\d+)\\."));
  }

  @Test
  void badValuesFailAtBuildWithTheYamlMessage() {
    assertSameMessageAsYaml(
        "distill",
        "lr: 0, warmup: 1, validateEvery: 0",
        () -> DistillConfig.builder().lr(0).warmup(1).validateEvery(0).build());
    assertSameMessageAsYaml(
        "layer-drop",
        "keep: [1, 1], keepEvenly: 2",
        () -> LayerDropConfig.builder().keep(1, 1).keepEvenly(2).build());
  }
}
