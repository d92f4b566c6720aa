package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.compress.api.ConfigException;
import org.junit.jupiter.api.Test;

/**
 * How a {@code preset:} key expands (the binding of each preset onto real passes is tested where
 * the passes are, in the CLI's PresetsCommandTest).
 */
class PresetsTest {
  private static JsonNode expand(String yaml) throws ConfigException {
    return Presets.expand(PipelineYaml.read(yaml, "<yaml>"));
  }

  @Test
  void everyPresetIsAPipelineWithoutAModel() throws Exception {
    for (String name : Presets.NAMES) {
      JsonNode t = PipelineYaml.read(Presets.yaml(name), name);
      assertThat(t.get("apiVersion").textValue()).as(name).isEqualTo(PipelineSpec.API_VERSION);
      assertThat(t.has("model")).as(name).isFalse();
      assertThat(t.get("passes").size()).as(name).isPositive();
      assertThat(t.get("output").get("dir").textValue()).as(name).isEqualTo("out/" + name);
    }
  }

  @Test
  void keysBesideThePresetWinMappingByMapping() throws Exception {
    JsonNode t =
        expand(
            "preset: w8a8\nmodel: m.onnx\ncalibration: {samples: 16}\n"
                + "evaluate: {gates: {cosine.min: '>= 0.9'}}\noutput: {dir: out/mine}\n");
    assertThat(t.has("preset")).isFalse();
    assertThat(t.get("model").textValue()).isEqualTo("m.onnx");
    // a mapping changes only the keys it names
    assertThat(t.get("calibration").get("samples").intValue()).isEqualTo(16);
    assertThat(t.get("calibration").get("sequenceLength").intValue()).isEqualTo(128);
    assertThat(t.get("evaluate").get("gates").get("cosine.mean").textValue()).isEqualTo(">= 0.99");
    assertThat(t.get("evaluate").get("gates").get("cosine.min").textValue()).isEqualTo(">= 0.9");
    assertThat(t.get("output").get("dir").textValue()).isEqualTo("out/mine");
    // the preset's passes stay when none are given
    assertThat(t.get("passes").get(1).get("type").textValue()).isEqualTo("ptq-static");
  }

  @Test
  void aListReplacesThePresetsAndNullRemovesABlock() throws Exception {
    JsonNode t = expand("preset: w8a8\npasses: [{type: ptq-dynamic}]\nevaluate: null\n");
    assertThat(t.get("passes").size()).isEqualTo(1);
    assertThat(t.get("passes").get(0).get("type").textValue()).isEqualTo("ptq-dynamic");
    assertThat(t.has("evaluate")).isFalse();
    assertThat(t.has("calibration")).isTrue();
  }

  @Test
  void anUnknownPresetIsOneLineListingTheKnownOnes() {
    assertThatThrownBy(() -> expand("preset: w8a9\nmodel: m.onnx\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "preset: unknown scheme 'w8a9'; did you mean 'w8a8'?; known: [w8a8, w8a8-dynamic,"
                + " w4a16, fp8, edge]");
    assertThatThrownBy(() -> expand("preset: 3\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("preset must be one of [w8a8, w8a8-dynamic, w4a16, fp8, edge], found 3");
  }

  @Test
  void aTreeWithoutPresetIsUnchanged() throws Exception {
    JsonNode t = PipelineYaml.read("model: m.onnx\n", "<yaml>");
    assertThat(Presets.expand(t)).isSameAs(t);
  }
}
