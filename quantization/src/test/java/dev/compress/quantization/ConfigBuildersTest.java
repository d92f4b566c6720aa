package dev.compress.quantization;

import static dev.compress.fixtures.BuilderChecks.assertSameMessageAsYaml;
import static dev.compress.fixtures.BuilderChecks.assertSettersLand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.quantization.awq.AwqConfig;
import dev.compress.quantization.awq.AwqProvider;
import dev.compress.quantization.fp8.Fp8Config;
import dev.compress.quantization.fp8.Fp8Provider;
import dev.compress.quantization.gptq.GptqConfig;
import dev.compress.quantization.gptq.GptqProvider;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.observer.Observers;
import dev.compress.quantization.ptq.DynamicPtqConfig;
import dev.compress.quantization.ptq.DynamicPtqProvider;
import dev.compress.quantization.ptq.StaticPtqConfig;
import dev.compress.quantization.ptq.StaticPtqProvider;
import dev.compress.quantization.qat.QatConfig;
import dev.compress.quantization.qat.QatProvider;
import dev.compress.quantization.rtn.RtnConfig;
import dev.compress.quantization.rtn.RtnProvider;
import dev.compress.quantization.smoothquant.SmoothQuantConfig;
import dev.compress.quantization.smoothquant.SmoothQuantProvider;
import dev.compress.training.distill.LossTerm;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The quantization configs' builders: no setter gives the provider's defaults, each setter lands in
 * its key, and a bad value fails at build() with the YAML's message for the same key.
 */
class ConfigBuildersTest {
  @Test
  void noSetterGivesTheDefaults() {
    assertThat(RtnConfig.builder().build()).isEqualTo(new RtnProvider().defaults());
    assertThat(GptqConfig.builder().build()).isEqualTo(new GptqProvider().defaults());
    assertThat(AwqConfig.builder().build()).isEqualTo(new AwqProvider().defaults());
    assertThat(Fp8Config.builder().build()).isEqualTo(new Fp8Provider().defaults());
    assertThat(SmoothQuantConfig.builder().build()).isEqualTo(new SmoothQuantProvider().defaults());
    assertThat(QatConfig.builder().build()).isEqualTo(new QatProvider().defaults());
    assertThat(DynamicPtqConfig.builder().build()).isEqualTo(new DynamicPtqProvider().defaults());
    assertThat(StaticPtqConfig.builder().build()).isEqualTo(new StaticPtqProvider().defaults());
  }

  @Test
  void eachSetterLandsInItsKey() {
    // from 4 bits, so that per_group is a valid granularity to switch to
    assertSettersLand(() -> RtnConfig.builder().bits(4), Map.of());
    assertSettersLand(GptqConfig::builder, Map.of("blockPattern", "blk\\.(\\d+)\\."));
    // per channel, so that 8 bits is a valid change
    assertSettersLand(
        () -> AwqConfig.builder().groupSize(0), Map.of("clipIgnore", new String[] {"re:.*q.*"}));
    assertSettersLand(Fp8Config::builder, Map.of());
    assertSettersLand(
        SmoothQuantConfig::builder, Map.of("mappings", Map.of("ln", List.of("fc1", "fc2"))));
    assertSettersLand(DynamicPtqConfig::builder, Map.of());
    assertSettersLand(StaticPtqConfig::builder, Map.of("observer", Observers.MIN_MAX));
    // qat's weight keys are coupled (lsq init needs symmetric, activations need 8 bits per
    // channel): from W8 per channel symmetric every single-key change is valid but granularity's.
    assertSettersLand(
        () -> QatConfig.builder().weights(8, 0, true),
        Map.of(
            "teacher",
            "teacher.onnx",
            "observer",
            Observers.MIN_MAX,
            "granularity",
            Granularity.PER_CHANNEL,
            "losses",
            new LossTerm[] {LossTerm.of(LossTerm.Kind.HIDDEN_MSE)}));
  }

  @Test
  void readsLikeTheYaml() {
    GptqConfig c =
        GptqConfig.builder().bits(4).groupSize(64).actOrder(true).targets("re:.*fc.*").build();
    assertThat(c)
        .isEqualTo(
            GptqConfig.defaults()
                .withBits(4, 64)
                .withOrder(true, false)
                .withSelection(
                    new dev.compress.api.pass.LayerSelection(List.of("re:.*fc.*"), List.of())));
    assertThat(c.toBuilder().build()).isEqualTo(c);
  }

  @Test
  void badValuesFailAtBuildWithTheYamlMessage() {
    assertSameMessageAsYaml(
        "qat", "bits: 3, lr: 0", () -> QatConfig.builder().bits(3).lr(0).build());
    assertThat(
            assertSameMessageAsYaml(
                "rtn-quantization", "bits: 3", () -> RtnConfig.builder().bits(3).build()))
        .containsExactly("bits must be 4 or 8, found 3");
    assertSameMessageAsYaml(
        "gptq",
        "groupSize: 100, dampPercent: 2",
        () -> GptqConfig.builder().groupSize(100).dampPercent(2).build());
    assertSameMessageAsYaml("awq", "alphaGrid: 0", () -> AwqConfig.builder().alphaGrid(0).build());
    assertThat(
            assertSameMessageAsYaml(
                "fp8-quantization",
                "targets: ['re:(']",
                () -> Fp8Config.builder().targets("re:(").build()))
        .singleElement()
        .asString()
        .startsWith("targets[0] is not a valid regex");
    assertSameMessageAsYaml(
        "smoothquant", "alpha: 1.5", () -> SmoothQuantConfig.builder().alpha(1.5).build());
    assertSameMessageAsYaml(
        "ptq-dynamic", "ignore: ['']", () -> DynamicPtqConfig.builder().ignore("").build());
    assertSameMessageAsYaml(
        "ptq-static", "observer: foo", () -> StaticPtqConfig.builder().observer("foo").build());
  }
}
