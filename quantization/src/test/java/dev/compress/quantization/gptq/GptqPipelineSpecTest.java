package dev.compress.quantization.gptq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.layers.TransformerBlocks;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pipeline.PipelineSpec;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The {@code gptq} pass type in a pipeline YAML: registered, bound, validated naming the key. */
class GptqPipelineSpecTest {
  static final String YAML =
      """
      apiVersion: compress/v1
      kind: Pipeline
      model: builtin:all-minilm-l6-v2
      calibration:
        kind: text
        source: builtin:calibration-text
        samples: 128
      passes:
        - type: gptq
          targets: ["re:/encoder/.*"]
          bits: %d
          groupSize: 128
          actOrder: true
      output:
        dir: out/gptq
      """;

  @Test
  void providerIsRegisteredAndTheYamlBinds() throws Exception {
    PassProvider<?> p =
        ServiceLoader.load(PassProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(x -> x.type().equals("gptq"))
            .findFirst()
            .orElseThrow();
    assertThat(p.needsCalibration()).isTrue();
    assertThat(p.defaults()).isEqualTo(GptqConfig.defaults());
    PipelineSpec spec = PipelineSpec.fromYaml(YAML.formatted(3));
    GptqConfig c = (GptqConfig) spec.passes().get(0).config();
    assertThat(c.bits()).isEqualTo(3);
    assertThat(c.actOrder()).isTrue();
    assertThat(c.symmetric()).isTrue();
    assertThat(c.dampPercent()).isEqualTo(0.01);
    assertThat(c.blockSize()).isEqualTo(128);
    assertThat(c.blockPattern()).isEqualTo(TransformerBlocks.DEFAULT_PATTERN);
    assertThat(c.selection().targets()).isEqualTo(List.of("re:/encoder/.*"));
  }

  @Test
  void bitsOutsideTwoToEightIsAConfigErrorNamingTheKey() {
    assertThatThrownBy(() -> PipelineSpec.fromYaml(YAML.formatted(9)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("passes[0].bits must be in [2, 8], found 9");
  }
}
