package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.compress.api.ConfigException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code KEY=VALUE} overrides ({@code run --set}) of a pipeline before binding. */
class SpecOverridesTest {
  private static final PassRegistry REGISTRY = PassRegistry.load();

  private static final String YAML =
      """
      apiVersion: compress/v1
      kind: Pipeline
      model: m.onnx
      passes:
        - type: scale-weights
        - type: scale-weights
          factor: 0.5
      evaluate:
        data: builtin:sentences
        gates: {cosine.min: ">= 0.98"}
      output: {dir: out}
      """;

  private static PipelineSpec set(String... overrides) throws ConfigException {
    return SpecOverrides.bind(
        PipelineYaml.read(YAML, "p.yaml"), REGISTRY, List.of(overrides), r -> {});
  }

  private static List<String> problems(String... overrides) {
    return catchThrowableOfType(ConfigException.class, () -> set(overrides)).problems();
  }

  @Test
  void pathsReachPassesBlocksAndTopLevelKeys() throws Exception {
    PipelineSpec s =
        set(
            "passes[1].mode=scale-and-negate",
            "passes[1].tags=[a, b]",
            "passes[0].targets=re:/layer0/.*",
            "seed=3",
            "calibration.source=calib.txt",
            "calibration.samples=64",
            "evaluate.latencyBatchSizes=[1, 8]",
            "output.dir=elsewhere");
    ScaleWeightsConfig second = (ScaleWeightsConfig) s.passes().get(1).config();
    assertThat(second.mode()).isEqualTo(ScaleWeightsConfig.Mode.SCALE_AND_NEGATE);
    assertThat(second.tags()).containsExactly("a", "b");
    assertThat(second.factor()).isEqualTo(0.5); // untouched keys keep the file's values
    assertThat(s.passes().get(0).config().selection().targets()).containsExactly("re:/layer0/.*");
    assertThat(s.seed()).isEqualTo(3);
    assertThat(s.calibration().orElseThrow().samples()).isEqualTo(64);
    assertThat(s.evaluate().orElseThrow().latencyBatchSizes()).containsExactly(1, 8);
    assertThat(s.output().dir()).isEqualTo(Path.of("elsewhere"));
  }

  @Test
  void gateNamesKeepTheirDotsAndBoundsNeedNoQuotes() throws Exception {
    PipelineSpec s =
        set("evaluate.gates.cosine.mean=>= 0.99", "evaluate.gates[\"nn.agreement\"]=> 0.9");
    assertThat(s.evaluate().orElseThrow().gates())
        .isEqualTo(
            Map.of("cosine.min", ">= 0.98", "cosine.mean", ">= 0.99", "nn.agreement", "> 0.9"));
  }

  @Test
  void laterOverridesWinAndNullRemovesAnOptionalBlock() throws Exception {
    assertThat(set("seed=1", "seed=2").seed()).isEqualTo(2);
    assertThat(set("evaluate=null").evaluate()).isEmpty();
    assertThat(set("passes[0]={type: scale-weights, factor: 4}").passes().get(0).config())
        .extracting(c -> ((ScaleWeightsConfig) c).factor())
        .isEqualTo(4.0);
  }

  @Test
  void unknownKeysNameTheSetAndSuggest() {
    assertThat(problems("passes[1].factr=2"))
        .containsExactly(
            "--set passes[1].factr=2: passes[1].factr: unknown key; did you mean 'factor'?");
    assertThat(problems("sed=3"))
        .containsExactly("--set sed=3: sed: unknown key; did you mean 'seed'?");
    assertThat(problems("calibration.smples=3"))
        .containsExactly(
            "--set calibration.smples=3: calibration.smples: unknown key; did you mean 'samples'?");
  }

  @Test
  void badIndexesValuesAndShapesNameTheSet() {
    assertThat(problems("passes[2].factor=1"))
        .containsExactly(
            "--set passes[2].factor=1: passes[2] does not exist (passes has 2 entries)");
    assertThat(problems("passes[0].factor=-1"))
        .singleElement()
        .asString()
        .startsWith("--set passes[0].factor=-1: passes[0].factor must be > 0");
    assertThat(problems("seed=x"))
        .containsExactly("--set seed=x: seed must be an integer, found 'x'");
    assertThat(problems("seed.x=1")).singleElement().asString().contains("seed takes a number");
    assertThat(problems("passes.x=1")).singleElement().asString().contains("passes is a list");
    assertThat(problems("nothing")).singleElement().asString().contains("expected KEY=VALUE");
  }

  @Test
  void aBuiltSpecTakesOverridesToo() throws Exception {
    PipelineSpec s = set();
    PipelineSpec t = s.withOverrides(List.of("passes[0].factor=3"), REGISTRY);
    assertThat(((ScaleWeightsConfig) t.passes().get(0).config()).factor()).isEqualTo(3.0);
    assertThat(t.passes().get(1)).isEqualTo(s.passes().get(1));
  }
}
