package dev.compress.quantization.qat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.quantization.grid.Granularity;
import dev.compress.training.distill.LossTerm;
import org.junit.jupiter.api.Test;

/** The README's qat YAML binds, with its defaults; a bad key names its path. */
class QatPipelineSpecTest {
  private static final String YAML =
      """
      apiVersion: compress/v1
      kind: Pipeline
      model: builtin:all-minilm-l6-v2
      calibration: {kind: text, source: builtin:calibration-text, samples: 128, sequenceLength: 64}
      passes:
        - type: qat
          bits: 4
          granularity: per_group
          groupSize: 128
          symmetric: false
          stepSize: lsq
          losses: [{kind: embedding-mse}]
          lr: 1.0e-4
          steps: 40
          batchSize: 8
      output: {dir: out/qat}
      """;

  @Test
  void theReadmeExampleBinds() throws Exception {
    QatConfig c = (QatConfig) PipelineSpec.fromYaml(YAML).passes().get(0).config();
    assertThat(c.bits()).isEqualTo(4);
    assertThat(c.granularity()).isEqualTo(Granularity.PER_GROUP);
    assertThat(c.stepSize()).isEqualTo(StepSize.LSQ);
    assertThat(c.scaleInit()).isEqualTo(ScaleInit.RTN);
    assertThat(c.steps()).contains(40);
    assertThat(c.losses()).extracting(LossTerm::kind).containsExactly(LossTerm.Kind.EMBEDDING_MSE);
    assertThat(c.activations()).isFalse();
    assertThat(c.weightDecay()).isZero();
  }

  @Test
  void badValuesNameTheirKeyPath() {
    assertThatThrownBy(() -> PipelineSpec.fromYaml(YAML.replace("bits: 4", "bits: 2")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("passes[0].bits must be 4 or 8, found 2");
    assertThatThrownBy(() -> PipelineSpec.fromYaml(YAML.replace("lr: 1.0e-4", "lr: 0")))
        .hasMessageContaining("passes[0].lr must be > 0, found 0.0");
    assertThatThrownBy(() -> PipelineSpec.fromYaml(YAML.replace("stepSize: lsq", "stepSize: pact")))
        .hasMessageContaining("passes[0].stepSize");
  }
}
