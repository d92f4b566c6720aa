package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.ConfigException;
import dev.compress.api.io.hf.HfCheckpoint;
import dev.compress.api.io.hf.HfFolderReader;
import dev.compress.api.io.hf.SyntheticCheckpoint;
import dev.compress.api.io.hf.TinyConfigs;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pipeline.ScaleWeightsConfig.Mode;
import dev.compress.api.tensor.DataType;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pipeline over a Hugging Face folder writing {@code output: {format: hf}}. */
class PipelineHfOutputTest {
  private static final PassRegistry REGISTRY = PassRegistry.load();

  @TempDir Path tmp;

  @Test
  void aPassOverAShardedLlamaFolderIsWrittenBackAsAFolder() throws Exception {
    Path src = tmp.resolve("llama");
    SyntheticCheckpoint.write(src, TinyConfigs.llama().toString(), DataType.FLOAT, 11, 2);
    Files.writeString(src.resolve("tokenizer.json"), "{}");
    Path out = tmp.resolve("work").resolve("out");
    PipelineSpec spec =
        PipelineSpec.builder()
            .model(src)
            .pass(
                new ScaleWeightsConfig(
                    new LayerSelection(List.of("re:.*mlp\\.down_proj"), List.of()),
                    0.5,
                    0,
                    Integer.MAX_VALUE,
                    Integer.MAX_VALUE,
                    Mode.SCALE,
                    List.of()))
            .output(out)
            .registry(REGISTRY)
            .build();
    spec = spec.withOutput(new PipelineSpec.Output(out, false, "hf"));
    new PipelineRunner(REGISTRY, List.of(), List.of())
        .run(spec, RunOptions.defaults().withOut(new PrintWriter(new StringWriter())));

    HfCheckpoint a = HfFolderReader.read(src);
    HfCheckpoint b = HfFolderReader.read(out);
    assertThat(b.sharded()).isTrue();
    assertThat(b.tokenizer()).isPresent();
    assertThat(Files.exists(out.resolve("manifest.json"))).isTrue();
    assertThat(
            new ObjectMapper()
                .readTree(out.resolve("manifest.json").toFile())
                .at("/output/format")
                .asText())
        .isEqualTo("hf");
    for (String n : a.tensors().keySet()) {
      float[] x = a.tensor(n).toFloatArray();
      float[] y = b.tensor(n).toFloatArray();
      if (n.endsWith("mlp.down_proj.weight")) {
        assertThat(y[3]).as(n).isEqualTo(x[3] * 0.5f);
      } else {
        assertThat(b.tensor(n).data()).as(n).isEqualTo(a.tensor(n).data());
      }
    }
  }

  @Test
  void aBf16FolderIsComputedInF32AndWrittenBackInBf16() throws Exception {
    Path src = tmp.resolve("gpt2");
    SyntheticCheckpoint.write(src, TinyConfigs.gpt2().toString(), DataType.BFLOAT16, 12, 1);
    dev.compress.api.io.ModelFiles.Loaded loaded =
        dev.compress.api.io.ModelFiles.load(src.toString());
    assertThat(loaded.notes().get(0)).contains("bf16 weights widened to f32");
    assertThat(loaded.model().graph().initializers().values())
        .allMatch(t -> t.dtype() != DataType.BFLOAT16);
    Path out = tmp.resolve("gpt2-out");
    HfCheckpoint a = HfFolderReader.read(src);
    dev.compress.api.io.hf.HfFolderWriter.write(a, loaded.model(), out);
    HfCheckpoint b = HfFolderReader.read(out);
    for (String n : a.tensors().keySet()) {
      assertThat(b.tensor(n).dtype()).isEqualTo(DataType.BFLOAT16);
      assertThat(b.tensor(n).data()).as(n).isEqualTo(a.tensor(n).data());
    }
  }

  @Test
  void hfOutputNeedsAFolderModel() throws Exception {
    Path onnx = PipelineFixtures.writeMlp(tmp.resolve("mlp.onnx"));
    Path out = tmp.resolve("out");
    PipelineSpec spec =
        PipelineSpec.builder()
            .model(onnx)
            .pass(
                new ScaleWeightsConfig(
                    LayerSelection.ALL,
                    0.5,
                    0,
                    Integer.MAX_VALUE,
                    Integer.MAX_VALUE,
                    Mode.SCALE,
                    List.of()))
            .output(out)
            .registry(REGISTRY)
            .build()
            .withOutput(new PipelineSpec.Output(out, false, "hf"));
    assertThatThrownBy(() -> new PipelineRunner(REGISTRY, List.of(), List.of()).validate(spec))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("output.format hf needs a Hugging Face folder as model");
  }

  @Test
  void theOutputFormatIsAYamlKey() throws Exception {
    String yaml =
        "apiVersion: compress/v1\nkind: Pipeline\nmodel: m\npasses:\n  - type: scale-weights\n"
            + "output: {dir: out, format: %s}\n";
    assertThat(PipelineSpec.fromYaml(yaml.formatted("hf"), REGISTRY).output().format())
        .isEqualTo("hf");
    assertThatThrownBy(() -> PipelineSpec.fromYaml(yaml.formatted("gguf"), REGISTRY))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("output")
        .hasMessageContaining("format must be one of [onnx, hf], found 'gguf'");
  }
}
