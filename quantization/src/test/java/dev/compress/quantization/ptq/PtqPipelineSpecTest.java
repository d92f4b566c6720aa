package dev.compress.quantization.ptq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.quantization.fp8.Fp8Config;
import dev.compress.quantization.fp8.Fp8Format;
import dev.compress.quantization.smoothquant.SmoothQuantConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pass types and config keys as a pipeline YAML spells them (the README examples). */
class PtqPipelineSpecTest {
  private static final String YAML =
      """
      apiVersion: compress/v1
      kind: Pipeline
      model: builtin:all-minilm-l6-v2
      calibration:
        kind: text
        source: builtin:calibration-text
        samples: 128
      passes:
        - type: smoothquant
          alpha: 0.5
          mappings:
            /encoder/layer.0/attention/output/LayerNorm/Add_1:
              - /encoder/layer.0/intermediate/dense/MatMul
        - type: ptq-static
          observer: mse
          embeddings: true
        - type: ptq-dynamic
          ignore: ["re:.*pooler.*"]
        - type: fp8-quantization
          format: e5m2
          perChannel: false
      output:
        dir: out/w8a8
      """;

  @Test
  void everyPassBindsFromYaml() throws Exception {
    PipelineSpec spec = PipelineSpec.fromYaml(YAML);
    List<PipelineSpec.PassSpec> p = spec.passes();
    assertThat(p)
        .extracting(PipelineSpec.PassSpec::type)
        .containsExactly("smoothquant", "ptq-static", "ptq-dynamic", "fp8-quantization");
    SmoothQuantConfig sq = (SmoothQuantConfig) p.get(0).config();
    assertThat(sq.mappings())
        .containsEntry(
            "/encoder/layer.0/attention/output/LayerNorm/Add_1",
            List.of("/encoder/layer.0/intermediate/dense/MatMul"));
    assertThat(sq.compensate()).isTrue();
    StaticPtqConfig st = (StaticPtqConfig) p.get(1).config();
    assertThat(st.observer()).isEqualTo("mse");
    assertThat(st.embeddings()).isTrue();
    assertThat(st.activationSymmetric()).isFalse();
    assertThat(((DynamicPtqConfig) p.get(2).config()).selection().ignore())
        .containsExactly("re:.*pooler.*");
    Fp8Config f = (Fp8Config) p.get(3).config();
    assertThat(f.format()).isEqualTo(Fp8Format.E5M2);
    assertThat(f.perChannel()).isFalse();
    assertThat(f.upgradeOpset()).isTrue();
  }

  @Test
  void anUnknownObserverNamesItsKeyPath() {
    String bad = YAML.replace("observer: mse", "observer: entropy");
    assertThatThrownBy(() -> PipelineSpec.fromYaml(bad))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("passes[1].observer must be one of")
        .hasMessageContaining("found 'entropy'");
  }
}
