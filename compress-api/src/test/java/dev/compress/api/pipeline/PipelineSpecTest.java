package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pipeline.ScaleWeightsConfig.Mode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PipelineSpecTest {
  private static final PassRegistry REGISTRY = PassRegistry.load();

  static String resource(String name) throws IOException {
    try (InputStream in = PipelineSpecTest.class.getResourceAsStream("/pipeline/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static String yaml(String passes) {
    return """
        apiVersion: compress/v1
        kind: Pipeline
        model: m.onnx
        passes:
        %s
        output: {dir: out}
        """
        .formatted(passes.indent(2).stripTrailing());
  }

  private static ConfigException problems(String yaml) {
    return catchThrowableOfType(ConfigException.class, () -> PipelineSpec.fromYaml(yaml, REGISTRY));
  }

  private static PipelineSpec fullBuilt() {
    return PipelineSpec.builder()
        .model("target/models/mlp.onnx")
        .seed(7)
        .calibration(
            CalibrationSpec.builder("calib.txt")
                .kind("text")
                .samples(16)
                .sequenceLength(128)
                .batchSize(16)
                .seed(0)
                .shuffle(true)
                .build())
        .pass(
            new ScaleWeightsConfig(
                new LayerSelection(List.of("re:/layer\\d/MatMul"), List.of("/layer1/MatMul")),
                0.5,
                0.0,
                -1,
                Integer.MAX_VALUE,
                Mode.SCALE_AND_NEGATE,
                List.of("a", "b")))
        .pass(new CalibratedProvider.Config(LayerSelection.ALL))
        .evaluate(
            EvaluateSpec.builder("builtin:sentences")
                .task("embedding-fidelity")
                .samples(10)
                .latencyBatchSizes(1)
                .sequenceLength(128)
                .iterations(20)
                .gates(Map.of("cosine.min", ">= 0.98"))
                .build())
        .output(Path.of("out/mlp"), true)
        .registry(REGISTRY)
        .build();
  }

  @Test
  void yamlAndBuilderGiveEqualSpecs() throws Exception {
    PipelineSpec fromYaml = PipelineSpec.fromYaml(resource("full.yaml"), REGISTRY);
    assertThat(fromYaml).isEqualTo(fullBuilt());
    assertThat(fromYaml.passes().get(0).type()).isEqualTo("scale-weights");
    assertThat(fromYaml.passes().get(1).type()).isEqualTo("needs-calibration");
  }

  @Test
  void resolvedYamlHasEveryDefaultAndReadsBackEqual() throws Exception {
    PipelineSpec spec = fullBuilt();
    String resolved = spec.toYaml();
    // Defaults filled in: parameters not given in full.yaml, calibration and evaluate defaults.
    assertThat(resolved)
        .contains("noise: 0.0", "failAfter: -1", "maxOutFeatures: 2147483647")
        .contains("mode: scale-and-negate", "sequenceLength: 128", "shuffle: true")
        .contains("iterations: 20", "seed: 7", "overwrite: true");
    assertThat(PipelineSpec.fromYaml(resolved, REGISTRY)).isEqualTo(spec);
    // toMap is stable: passes list type first, selection spelled targets/ignore.
    Map<String, Object> map = spec.toMap();
    assertThat(map.keySet())
        .containsExactly(
            "apiVersion",
            "kind",
            "model",
            "seed",
            "device",
            "calibration",
            "passes",
            "evaluate",
            "output");
    @SuppressWarnings("unchecked")
    Map<String, Object> pass0 = ((List<Map<String, Object>>) map.get("passes")).get(0);
    assertThat(pass0.keySet())
        .containsExactly(
            "type",
            "targets",
            "ignore",
            "factor",
            "noise",
            "failAfter",
            "maxOutFeatures",
            "mode",
            "tags");
  }

  @Test
  void awkwardStringsSurviveTheRoundTrip() throws Exception {
    List<String> tags =
        List.of(
            "true", "no", "1.5", "null", "~", "re:.*x", "a: b", "#c", "- d", "0x10", "", "é", ".5",
            "-1", "1_000", ".inf", "+.5", "1e3");
    PipelineSpec spec =
        PipelineSpec.builder()
            .model("builtin:all-minilm-l6-v2")
            .pass(new ScaleWeightsConfig(LayerSelection.ALL, 1.0 / 3, 1e-7, 3, 5, Mode.SCALE, tags))
            .output(Path.of("o u t"))
            .seed(Long.MIN_VALUE)
            .registry(REGISTRY)
            .build();
    assertThat(PipelineSpec.fromYaml(spec.toYaml(), REGISTRY)).isEqualTo(spec);
  }

  @Test
  void passWithOnlyATypeGetsTheProviderDefaults() throws Exception {
    PipelineSpec spec = PipelineSpec.fromYaml(yaml("- type: scale-weights"), REGISTRY);
    assertThat(spec.passes().get(0).config()).isEqualTo(ScaleWeightsConfig.DEFAULTS);
    assertThat(spec.seed()).isZero();
    assertThat(spec.calibration()).isEmpty();
    assertThat(spec.output()).isEqualTo(new PipelineSpec.Output(Path.of("out"), false));
  }

  @Test
  void enumsMatchCaseInsensitivelyWithHyphensOrUnderscores() throws Exception {
    for (String v : List.of("SCALE_AND_NEGATE", "Scale-And-Negate", "scale_and-negate")) {
      PipelineSpec spec =
          PipelineSpec.fromYaml(yaml("- {type: scale-weights, mode: " + v + "}"), REGISTRY);
      assertThat(((ScaleWeightsConfig) spec.passes().get(0).config()).mode())
          .isEqualTo(Mode.SCALE_AND_NEGATE);
    }
  }

  @Test
  void unknownPassTypeListsTheKnownOnes() {
    ConfigException e = problems(yaml("- type: scale-weights\n- type: foo\n- type: scale-weight"));
    assertThat(e.problems())
        .containsExactly(
            "passes[1].type: unknown pass 'foo'; known: [needs-calibration, needs-teacher, scale-weights]",
            "passes[2].type: unknown pass 'scale-weight'; known: [needs-calibration,"
                + " needs-teacher, scale-weights] (did you mean 'scale-weights'?)");
  }

  @Test
  void misspelledKeysNameTheirPathAndSuggestTheKey() {
    ConfigException e =
        problems(
            yaml("- {type: scale-weights, factr: 2, target: [x], zzz: 1}")
                .replace("model:", "modle: x\nmodel:"));
    assertThat(e.problems())
        .containsExactlyInAnyOrder(
            "modle: unknown key; did you mean 'model'?",
            "passes[0].factr: unknown key; did you mean 'factor'?",
            "passes[0].target: unknown key; did you mean 'targets'?",
            "passes[0].zzz: unknown key; known: [targets, ignore, factor, noise, failAfter,"
                + " maxOutFeatures, mode, tags]");
  }

  @Test
  void outOfRangeValueNamesTheKeyAndTheValue() {
    ConfigException e =
        problems(yaml("- type: scale-weights\n- {type: scale-weights, factor: -1.5}"));
    assertThat(e.problems()).containsExactly("passes[1].factor must be > 0, found -1.5");
    assertThat(e.getMessage()).isEqualTo("passes[1].factor must be > 0, found -1.5");
  }

  @Test
  void wrongTypesNameTheKeyAndTheValueFound() {
    ConfigException e =
        problems(
            yaml(
                """
                - type: scale-weights
                  factor: abc
                  failAfter: 1.5
                  maxOutFeatures: 99999999999
                  mode: sideways
                  tags: [a, 3]
                  targets: re:/layer0/MatMul
                  ignore: ["re:("]
                """));
    assertThat(e.problems())
        .containsExactly(
            "passes[0].factor must be a number, found 'abc'",
            "passes[0].failAfter must be an integer, found 1.5",
            "passes[0].maxOutFeatures must be an integer, found 99999999999",
            "passes[0].mode must be one of [scale, scale-and-negate], found 'sideways'",
            "passes[0].tags[1] must be a string, found 3",
            "passes[0].targets must be a list of strings, found 're:/layer0/MatMul'",
            "passes[0].ignore[0] is not a valid regex: 're:(' (Unclosed group)");
  }

  @Test
  void everyProblemInAFileIsListedAtOnce() throws Exception {
    ConfigException e = problems(resource("all-problems.yaml"));
    assertThat(e.problems())
        .containsExactlyInAnyOrder(
            "modle: unknown key; did you mean 'model'?",
            "apiVersion must be compress/v1, found 'compress/v2'",
            "model is required (a path to an .onnx file or builtin:NAME)",
            "calibration.source is required",
            "calibration.samples must be > 0, found 0",
            "passes[0].factr: unknown key; did you mean 'factor'?",
            "passes[0].failAfter must be an integer, found 'three'",
            "passes[0].mode must be one of [scale, scale-and-negate], found 'sideways'",
            "passes[0].targets must be a list of strings, found 're:/layer0/MatMul'",
            "passes[0].noise must be >= 0, found -1.0",
            "passes[1].type: unknown pass 'foo'; known: [needs-calibration, needs-teacher, scale-weights]",
            "passes[2].type is required (one of [needs-calibration, needs-teacher, scale-weights])",
            "output.dir is required");
    assertThat(e.getMessage()).contains("; ");
  }

  @Test
  void missingTopLevelPartsAreRequired() {
    assertThat(problems("apiVersion: compress/v1\nkind: Pipeline\n").problems())
        .containsExactly(
            "model is required (a path to an .onnx file or builtin:NAME)",
            "passes is required (a list of {type: TYPE, ...})",
            "output is required (output: {dir: DIR})");
    assertThat(problems(yaml("[]").replace("passes:\n  []", "passes: []")).problems())
        .containsExactly("passes must list at least one pass");
    assertThat(
            problems(yaml("- type: scale-weights").replace("seed", "x") + "seed: 1.5\n").problems())
        .containsExactly("seed must be an integer, found 1.5");
  }

  @Test
  void yamlSyntaxErrorsAndDuplicateKeysAreConfigErrors() {
    assertThat(problems("apiVersion: [unclosed\n").getMessage()).startsWith("<yaml>:2:1: ");
    assertThat(problems(yaml("- type: scale-weights") + "model: again\n").getMessage())
        .startsWith("<yaml>:7:")
        .contains("Duplicate field 'model'");
    assertThat(problems("").getMessage()).contains("the pipeline is empty");
    assertThat(problems("- a\n- b\n").getMessage()).contains("must be a mapping");
  }

  @Test
  void missingPipelineFileIsAConfigError() {
    assertThatThrownBy(() -> PipelineSpec.load(Path.of("no/such/pipeline.yaml"), REGISTRY))
        .isInstanceOf(ConfigException.class)
        .hasMessage("no such pipeline file: no/such/pipeline.yaml");
  }

  @Test
  void builderRejectsAConfigWithoutProviderAndMissingParts() {
    record Stray(LayerSelection selection) implements PassConfig {}
    assertThatThrownBy(
            () ->
                PipelineSpec.builder()
                    .model("m.onnx")
                    .pass(new Stray(LayerSelection.ALL))
                    .output(Path.of("o"))
                    .registry(REGISTRY)
                    .build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("passes[0]: no registered pass takes")
        .hasMessageContaining("known: [needs-calibration, needs-teacher, scale-weights]");
    assertThatThrownBy(() -> PipelineSpec.builder().registry(REGISTRY).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("model is required")
        .hasMessageContaining("passes must list at least one pass")
        .hasMessageContaining("output.dir is required");
  }
}
