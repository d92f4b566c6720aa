package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.compress.api.ConfigException;
import org.junit.jupiter.api.Test;

/** The evaluate block's pooling, tokenizer and layerErrors keys as a pipeline YAML gives them. */
class EvaluateSpecTest {
  private static final PassRegistry REGISTRY = PassRegistry.load();

  private static String yaml(String evaluate) {
    return """
        apiVersion: compress/v1
        kind: Pipeline
        model: m.onnx
        passes:
          - type: scale-weights
        evaluate:
        %s
        output: {dir: out}
        """
        .formatted(evaluate.indent(2).stripTrailing());
  }

  @Test
  void defaultsAreMeanPoolingTheTokenizerBesideTheModelAndBothLayerModes() throws Exception {
    EvaluateSpec e = PipelineSpec.fromYaml(yaml("data: s.txt"), REGISTRY).evaluate().orElseThrow();
    assertThat(e.pooling()).isEqualTo("mean");
    assertThat(e.tokenizer()).isEmpty();
    assertThat(e.layerErrors()).isEqualTo("both");
  }

  @Test
  void keysAreBoundAndRoundTrip() throws Exception {
    PipelineSpec spec =
        PipelineSpec.fromYaml(
            yaml(
                "data: s.txt\npooling: CLS\ntokenizer: models/bge-tokenizer.json\n"
                    + "layerErrors: isolated"),
            REGISTRY);
    EvaluateSpec e = spec.evaluate().orElseThrow();
    assertThat(e.pooling()).isEqualTo("cls");
    assertThat(e.tokenizer()).isEqualTo("models/bge-tokenizer.json");
    assertThat(e.layerErrors()).isEqualTo("isolated");
    assertThat(PipelineSpec.fromYaml(spec.toYaml(), REGISTRY)).isEqualTo(spec);
  }

  @Test
  void anUnknownPoolingIsAConfigErrorNamingTheKey() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () -> PipelineSpec.fromYaml(yaml("data: s.txt\npooling: max"), REGISTRY));
    assertThat(e).isNotNull();
    assertThat(e.problems())
        .containsExactly("evaluate.pooling must be one of [mean, cls, none], found 'max'");
  }

  @Test
  void poolingMustSuitTheTaskAndLayerErrorsMustBeAMode() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                PipelineSpec.fromYaml(
                    yaml("task: perplexity\ndata: s.txt\npooling: cls\nlayerErrors: all"),
                    REGISTRY));
    assertThat(e).isNotNull();
    assertThat(e.problems())
        .containsExactly(
            "evaluate.pooling applies to the embedding-fidelity and opinion-sentiment tasks,"
                + " found 'cls' with task perplexity",
            "evaluate.layerErrors must be one of [accumulated, isolated, both], found 'all'");
    ConfigException none =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                PipelineSpec.fromYaml(
                    yaml("task: opinion-sentiment\ndata: s.txt\npooling: none"), REGISTRY));
    assertThat(none.problems())
        .containsExactly(
            "evaluate.pooling 'none' (token-level) needs task embedding-fidelity, found task"
                + " opinion-sentiment");
  }
}
