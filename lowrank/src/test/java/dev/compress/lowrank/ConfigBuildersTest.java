package dev.compress.lowrank;

import static dev.compress.fixtures.BuilderChecks.assertSameMessageAsYaml;
import static dev.compress.fixtures.BuilderChecks.assertSettersLand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.lowrank.asvd.AsvdConfig;
import dev.compress.lowrank.asvd.AsvdProvider;
import dev.compress.lowrank.lora.AdaLoraConfig;
import dev.compress.lowrank.lora.AdaLoraProvider;
import dev.compress.lowrank.lora.DyLoraConfig;
import dev.compress.lowrank.lora.DyLoraProvider;
import dev.compress.lowrank.lora.LoraConfig;
import dev.compress.lowrank.lora.LoraMergeConfig;
import dev.compress.lowrank.lora.LoraMergeProvider;
import dev.compress.lowrank.lora.LoraProvider;
import dev.compress.lowrank.rank.Allocation;
import dev.compress.lowrank.svd.SvdConfig;
import dev.compress.lowrank.svd.SvdProvider;
import dev.compress.lowrank.svdllm.SvdLlmConfig;
import dev.compress.lowrank.svdllm.SvdLlmProvider;
import dev.compress.training.distill.LossTerm;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The low-rank configs' builders: no setter gives the provider's defaults, each setter lands in its
 * key, and a bad value fails at build() with the YAML's message for the same key.
 */
class ConfigBuildersTest {
  @Test
  void noSetterGivesTheDefaults() {
    assertThat(SvdConfig.builder().build()).isEqualTo(new SvdProvider().defaults());
    assertThat(AsvdConfig.builder().build()).isEqualTo(new AsvdProvider().defaults());
    assertThat(SvdLlmConfig.builder().build()).isEqualTo(new SvdLlmProvider().defaults());
    assertThat(LoraConfig.builder().build()).isEqualTo(new LoraProvider().defaults());
    assertThat(AdaLoraConfig.builder().build()).isEqualTo(new AdaLoraProvider().defaults());
    assertThat(DyLoraConfig.builder().build()).isEqualTo(new DyLoraProvider().defaults());
    assertThat(LoraMergeConfig.builder().build()).isEqualTo(new LoraMergeProvider().defaults());
  }

  @Test
  void eachSetterLandsInItsKey() {
    assertSettersLand(SvdConfig::builder, Map.of());
    assertSettersLand(
        AsvdConfig::builder, Map.of("alpha", 0.5, "alphaGrid", new Double[] {0.5, 1.5}));
    assertSettersLand(SvdLlmConfig::builder, Map.of());
    assertSettersLand(
        LoraConfig::builder,
        Map.of(
            "teacher",
            "teacher.onnx",
            "losses",
            new LossTerm[] {LossTerm.of(LossTerm.Kind.HIDDEN_MSE)}));
    Map<String, Object> training =
        Map.of(
            "teacher",
            "teacher.onnx",
            "losses",
            new LossTerm[] {LossTerm.of(LossTerm.Kind.HIDDEN_MSE)});
    assertSettersLand(AdaLoraConfig::builder, training);
    assertSettersLand(DyLoraConfig::builder, training);
    assertSettersLand(LoraMergeConfig::builder, Map.of("adapter", "adapter-dir"));
  }

  @Test
  void badValuesFailAtBuildWithTheYamlMessage() {
    assertSameMessageAsYaml(
        "svd", "parametersRemoved: 0", () -> SvdConfig.builder().parametersRemoved(0).build());
    assertSameMessageAsYaml(
        "asvd",
        "alpha: 3, alphaGrid: [5]",
        () -> AsvdConfig.builder().alpha(3).alphaGrid(5.0).build());
    assertSameMessageAsYaml(
        "svd-llm",
        "allocation: fixed, rank: 0",
        () -> SvdLlmConfig.builder().allocation(Allocation.FIXED).rank(0).build());
    assertSameMessageAsYaml(
        "lora", "rank: 0, alpha: 0", () -> LoraConfig.builder().rank(0).alpha(0).build());
    assertSameMessageAsYaml(
        "adalora",
        "rank: 4, targetRank: 6, tinit: 0.6, tfinal: 0.5",
        () -> AdaLoraConfig.builder().rank(4).targetRank(6).tinit(0.6).tfinal(0.5).build());
    assertSameMessageAsYaml(
        "dylora", "rank: 4, keepRank: 5", () -> DyLoraConfig.builder().rank(4).keepRank(5).build());
    assertSameMessageAsYaml(
        "lora-merge", "adapter: ' '", () -> LoraMergeConfig.builder().adapter(" ").build());
  }
}
