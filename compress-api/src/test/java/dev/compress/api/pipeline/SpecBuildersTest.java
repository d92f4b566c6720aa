package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.pass.InvalidConfigException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The builders of the evaluate and calibration blocks against their YAML. */
class SpecBuildersTest {
  private static final PassRegistry REGISTRY = PassRegistry.load();

  private static List<String> yamlProblems(String block) {
    return catchThrowableOfType(
            ConfigException.class,
            () ->
                PipelineSpec.fromYaml(
                    "apiVersion: compress/v1\nkind: Pipeline\nmodel: m.onnx\n"
                        + "passes: [{type: scale-weights}]\n"
                        + block
                        + "\noutput: {dir: out}\n",
                    REGISTRY))
        .problems();
  }

  @Test
  void evaluateBuilderStartsFromTheDefaultsAndSetsEachKey() {
    assertThat(EvaluateSpec.builder("d.txt").build()).isEqualTo(EvaluateSpec.defaults("d.txt"));
    EvaluateSpec e =
        EvaluateSpec.builder("builtin:heldout-sentences")
            .samples(24)
            .latencyBatchSizes(1)
            .sequenceLength(32)
            .iterations(2)
            .gate("cosine.mean", ">= 0.98")
            .gate("nn.top1", ">= 0.9")
            .build();
    assertThat(e)
        .isEqualTo(
            new EvaluateSpec(
                "embedding-fidelity",
                "builtin:heldout-sentences",
                24,
                List.of(1),
                32,
                2,
                Map.of("cosine.mean", ">= 0.98", "nn.top1", ">= 0.9")));
    EvaluateSpec all =
        e.toBuilder()
            .task("logits")
            .data("x.json")
            .engine("djl")
            .device("gpu")
            .sequenceLengths(64, 128)
            .timeBudgetSeconds(5)
            .threads(2)
            .labels("l.txt")
            .report("r.html")
            .pooling("mean")
            .tokenizer("t.json")
            .layerErrors("isolated")
            .gates(Map.of())
            .build();
    assertThat(all.task()).isEqualTo("logits");
    assertThat(all.data()).isEqualTo("x.json");
    assertThat(all.engine()).isEqualTo("djl");
    assertThat(all.device()).isEqualTo("gpu");
    assertThat(all.sequenceLengths()).containsExactly(64, 128);
    assertThat(all.timeBudgetSeconds()).isEqualTo(5);
    assertThat(all.threads()).isEqualTo(2);
    assertThat(all.labels()).isEqualTo("l.txt");
    assertThat(all.report()).isEqualTo("r.html");
    assertThat(all.tokenizer()).isEqualTo("t.json");
    assertThat(all.layerErrors()).isEqualTo("isolated");
    assertThat(all.gates()).isEmpty();
    assertThat(all.samples()).isEqualTo(24); // kept from e
  }

  @Test
  void evaluateBuilderFailsAtBuildWithTheYamlMessages() {
    InvalidConfigException x =
        catchThrowableOfType(
            InvalidConfigException.class,
            () -> EvaluateSpec.builder("d.txt").samples(0).threads(-1).build());
    assertThat(x.problems().stream().map(p -> "evaluate." + p))
        .containsExactlyElementsOf(
            yamlProblems("evaluate: {data: d.txt, samples: 0, threads: -1}"));
  }

  @Test
  void calibrationBuilderStartsFromTheDefaultsAndSetsEachKey() {
    assertThat(CalibrationSpec.builder("c.txt").build())
        .isEqualTo(CalibrationSpec.defaults("c.txt"));
    CalibrationSpec c =
        CalibrationSpec.builder("c.txt")
            .kind("tensors")
            .source("c.safetensors")
            .samples(8)
            .sequenceLength(16)
            .batchSize(4)
            .seed(7)
            .shuffle(false)
            .tokenizer("t.json")
            .build();
    assertThat(c)
        .isEqualTo(new CalibrationSpec("tensors", "c.safetensors", 8, 16, 4, 7, false, "t.json"));
    InvalidConfigException x =
        catchThrowableOfType(
            InvalidConfigException.class,
            () -> CalibrationSpec.builder("c.txt").batchSize(0).build());
    assertThat(x.problems().stream().map(p -> "calibration." + p))
        .containsExactlyElementsOf(yamlProblems("calibration: {source: c.txt, batchSize: 0}"));
  }

  @Test
  void aWrongTypeForAComponentIsTheBuildersMistake() {
    class Bad extends dev.compress.api.pass.RecordBuilder<CalibrationSpec, Bad> {
      Bad() {
        super(CalibrationSpec.defaults("c.txt"));
      }

      Bad samples(String s) {
        return set("samples", s);
      }

      Bad nope() {
        return set("nope", 1);
      }
    }
    assertThatThrownBy(() -> new Bad().samples("8"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CalibrationSpec.samples takes Integer");
    assertThatThrownBy(() -> new Bad().nope())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no component nope");
  }
}
