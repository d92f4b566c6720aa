package dev.compress.quantization.gptq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.ModelFiles;
import dev.compress.api.io.hf.HfCheckpoint;
import dev.compress.api.io.hf.HfFolderReader;
import dev.compress.api.io.hf.SyntheticCheckpoint;
import dev.compress.api.io.safetensors.SafetensorsReader;
import dev.compress.api.io.safetensors.SafetensorsWriter;
import dev.compress.api.pipeline.PassRegistry;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.RunOptions;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.format.QuantizedGraphWeights;
import dev.compress.quantization.format.gptq.GptqCheckpoint;
import dev.compress.quantization.format.gptq.GptqLayout;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code output: {format: hf-gptq}} from a pipeline over a tiny Llama folder. */
class HfGptqOutputTest {
  private static final PassRegistry REGISTRY = PassRegistry.load();

  private static final String LLAMA =
      """
      {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 48,
       "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
       "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64,
       "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
       "tie_word_embeddings": %s, "torch_dtype": "float16"}
      """;

  private static final String GPT2 =
      """
      {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 48,
       "n_embd": 32, "n_layer": 1, "n_head": 4, "n_positions": 64,
       "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "torch_dtype": "float32"}
      """;

  private static final String GPTQ_ACT_ORDER =
      "{type: gptq, bits: 4, groupSize: 32, actOrder: true, ignore: [lm_head]}";

  @TempDir Path tmp;

  private Path llama(boolean tied) throws Exception {
    Path src = tmp.resolve("llama");
    SyntheticCheckpoint.write(src, LLAMA.formatted(tied), DataType.FLOAT16, 21, 1);
    Files.writeString(src.resolve("tokenizer.json"), "{\"model\": {}}");
    Files.writeString(src.resolve("generation_config.json"), "{\"max_new_tokens\": 8}");
    return src;
  }

  private Path tokens() throws Exception {
    Random r = new Random(5);
    int n = 16;
    int seq = 12;
    long[] ids = new long[n * seq];
    long[] mask = new long[n * seq];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = r.nextInt(48);
      mask[i] = 1;
    }
    Path data = tmp.resolve("tokens.safetensors");
    SafetensorsWriter.write(
        data,
        List.of(
            Tensor.ofLongs("input_ids", new long[] {n, seq}, ids),
            Tensor.ofLongs("attention_mask", new long[] {n, seq}, mask)),
        Map.of());
    return data;
  }

  private String yaml(Path model, String pass, String extra) throws Exception {
    return "apiVersion: compress/v1\nkind: Pipeline\nmodel: "
        + model
        + "\ncalibration: {kind: tensors, source: "
        + tokens()
        + ", samples: 16, batchSize: 8}\npasses:\n  - "
        + pass
        + "\n"
        + extra
        + "output: {dir: "
        + tmp.resolve("out")
        + ", format: hf-gptq}\n";
  }

  @Test
  void gptqOverALlamaFolderIsWrittenAsAGptqCheckpoint() throws Exception {
    Path src = llama(false);
    Path out = tmp.resolve("out");
    PipelineSpec spec =
        PipelineSpec.fromYaml(
            yaml(
                src, "{type: gptq, bits: 4, groupSize: 32, actOrder: true, ignore: [lm_head]}", ""),
            REGISTRY);
    PipelineRunner runner = new PipelineRunner();
    runner.run(spec, RunOptions.defaults().withOut(new PrintWriter(new StringWriter())));
    Path onnxOut = tmp.resolve("onnx-out");
    runner.run(
        PipelineSpec.fromYaml(
            yaml(src, GPTQ_ACT_ORDER, "")
                .replace(", format: hf-gptq", "")
                .replace("dir: " + out, "dir: " + onnxOut),
            REGISTRY),
        RunOptions.defaults().withOut(new PrintWriter(new StringWriter())));
    sameAsGraph(out, onnxOut, 4, 32, true);

    // The graph the pipeline wrote, rebuilt: the same pass over the same model and data.
    HfCheckpoint a = HfFolderReader.read(src);
    Map<String, GroupQuantizedWeight> ours = GptqCheckpoint.read(out);
    assertThat(ours).isNotEmpty().doesNotContainKey("lm_head");
    assertThat(ours.keySet()).contains("model.layers.1.mlp.down_proj");
    GptqCheckpoint.Settings s = GptqCheckpoint.settings(out);
    assertThat(s.bits()).isEqualTo(4);
    assertThat(s.groupSize()).isEqualTo(32);
    assertThat(s.descAct()).isTrue();

    Map<String, Tensor> b = SafetensorsReader.read(out.resolve("model.safetensors")).tensors();
    for (String n : a.tensors().keySet()) {
      String module = n.substring(0, n.lastIndexOf('.'));
      if (ours.containsKey(module)) {
        assertThat(b).as(n).doesNotContainKey(n);
        assertThat(b.get(module + ".scales").dtype()).isEqualTo(DataType.FLOAT16);
      } else {
        assertThat(b.get(n).data()).as(n).isEqualTo(a.tensor(n).data());
      }
    }
    JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
    JsonNode q = config.get("quantization_config");
    assertThat(q.get("quant_method").asText()).isEqualTo("gptq");
    assertThat(q.get("checkpoint_format").asText()).isEqualTo("gptq");
    assertThat(q.get("bits").asInt()).isEqualTo(4);
    assertThat(q.get("group_size").asInt()).isEqualTo(32);
    assertThat(q.get("desc_act").asBoolean()).isTrue();
    assertThat(q.get("sym").asBoolean()).isTrue();
    assertThat(config.get("hidden_size").asInt()).isEqualTo(32);
    assertThat(Files.readString(out.resolve("tokenizer.json"))).isEqualTo("{\"model\": {}}");
    assertThat(Files.exists(out.resolve("generation_config.json"))).isTrue();
    assertThat(
            new ObjectMapper()
                .readTree(out.resolve("manifest.json").toFile())
                .at("/output/format")
                .asText())
        .isEqualTo("hf-gptq");
  }

  @Test
  void theUnpackedWeightsAreTheGraphsMatMulNBitsWeights() throws Exception {
    Path src = llama(true);
    String pass =
        "{type: rtn-quantization, bits: 4, granularity: per_group, groupSize: 32,"
            + " symmetric: false, ignore: [lm_head]}";
    PipelineRunner runner = new PipelineRunner();
    Path out = tmp.resolve("out");
    runner.run(
        PipelineSpec.fromYaml(yaml(src, pass, ""), REGISTRY),
        RunOptions.defaults().withOut(new PrintWriter(new StringWriter())));
    // The same run written as ONNX: the graph's MatMulNBits weights.
    Path onnxOut = tmp.resolve("onnx-out");
    runner.run(
        PipelineSpec.fromYaml(
            yaml(src, pass, "")
                .replace(", format: hf-gptq", "")
                .replace("dir: " + out, "dir: " + onnxOut),
            REGISTRY),
        RunOptions.defaults().withOut(new PrintWriter(new StringWriter())));
    Map<String, Tensor> b = sameAsGraph(out, onnxOut, 4, 32, false);
    // Tied: lm_head stays float and shares the embedding.
    assertThat(b).doesNotContainKey("lm_head.qweight");
  }

  @Test
  void badInputsAreRefusedOneLineEach() throws Exception {
    Path src = llama(false);
    PipelineRunner runner = new PipelineRunner();
    assertThatThrownBy(
            () ->
                runner.validate(
                    PipelineSpec.fromYaml(
                        yaml(src, "{type: gptq, bits: 4, groupSize: 32}", ""), REGISTRY)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("quantizes lm_head")
        .hasMessageContaining("HINT: ignore: [lm_head]");
    assertThatThrownBy(
            () ->
                runner.validate(
                    PipelineSpec.fromYaml(
                        yaml(src, "{type: rtn-quantization, bits: 8, ignore: [lm_head]}", ""),
                        REGISTRY)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("bits 8 writes DequantizeLinear layers, not the GPTQ layout");
    assertThatThrownBy(
            () ->
                runner.validate(
                    PipelineSpec.fromYaml(
                        yaml(src, "{type: gptq, bits: 4, groupSize: 0, ignore: [lm_head]}", ""),
                        REGISTRY)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("groupSize 0 (per channel) writes DequantizeLinear layers");
    assertThatThrownBy(
            () ->
                runner.validate(
                    PipelineSpec.fromYaml(
                        yaml(
                            src,
                            "{type: gptq, bits: 4, groupSize: 32, targets: ['re:.*mlp.*']}",
                            "  - {type: gptq, bits: 4, groupSize: 64, ignore: ['re:.*mlp.*',"
                                + " lm_head]}\n"),
                        REGISTRY)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("a GPTQ checkpoint has one setting for every layer");
    Path gpt2 = tmp.resolve("gpt2");
    SyntheticCheckpoint.write(gpt2, GPT2, DataType.FLOAT, 3, 1);
    assertThatThrownBy(
            () ->
                runner.validate(
                    PipelineSpec.fromYaml(
                        yaml(gpt2, "{type: gptq, bits: 4, groupSize: 32, ignore: [lm_head]}", ""),
                        REGISTRY)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("GPT2LMHeadModel is not supported yet");
    Path onnx = tmp.resolve("m.onnx");
    dev.compress.api.io.onnx.OnnxWriter.write(
        dev.compress.fixtures.TinyModels.mlp(32, 64, 32, 1), onnx);
    assertThatThrownBy(
            () ->
                runner.validate(
                    PipelineSpec.fromYaml(
                        yaml(onnx, "{type: gptq, bits: 4, groupSize: 32}", ""), REGISTRY)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("output.format hf-gptq needs a Hugging Face folder as model");
    assertThatThrownBy(
            () ->
                PipelineSpec.fromYaml(
                    yaml(src, "{type: gptq}", "").replace("hf-gptq", "gguf"), REGISTRY))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("format must be one of [onnx, hf, hf-gptq")
        .hasMessageContaining("found 'gguf'");
  }

  /**
   * The GPTQ tensors in {@code out} unpack to the graph's MatMulNBits weights in {@code onnxOut}.
   */
  private static Map<String, Tensor> sameAsGraph(
      Path out, Path onnxOut, int bits, int groupSize, boolean sym) throws Exception {
    ModelGraph quantized = ModelFiles.load(onnxOut.resolve("model.onnx").toString()).model();
    Map<String, GroupQuantizedWeight> graph = QuantizedGraphWeights.read(quantized, bits, sym);
    Map<String, Tensor> b = SafetensorsReader.read(out.resolve("model.safetensors")).tensors();
    assertThat(graph).hasSize(14);
    for (Map.Entry<String, GroupQuantizedWeight> e : graph.entrySet()) {
      GroupQuantizedWeight w = e.getValue();
      GroupQuantizedWeight r = GptqLayout.unpack(b, e.getKey(), bits, groupSize, sym);
      assertThat(r.gIdx()).as(e.getKey()).isEqualTo(w.gIdx());
      for (int o = 0; o < w.rows(); o++) {
        for (int i = 0; i < w.cols(); i++) {
          assertThat(r.code(o, i)).as(e.getKey()).isEqualTo(w.code(o, i));
        }
        for (int g = 0; g < w.groups(); g++) {
          assertThat(r.zero(o, g)).isEqualTo(w.zero(o, g));
          assertThat(r.scale(o, g))
              .isEqualTo(Float.float16ToFloat(Float.floatToFloat16(w.scale(o, g))));
        }
      }
    }
    return b;
  }
}
