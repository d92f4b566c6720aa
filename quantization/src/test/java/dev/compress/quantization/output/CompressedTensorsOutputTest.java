package dev.compress.quantization.output;

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
import dev.compress.quantization.format.compressedtensors.CompressedTensorsCheckpoint;
import dev.compress.quantization.format.compressedtensors.PackQuantizedLayout;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code output: {format: compressed-tensors}} (pack-quantized) from a pipeline over a tiny fp16
 * Llama folder: the written tensors unpack to the MatMulNBits / DequantizeLinear weights of the
 * same run written as ONNX, every other tensor is the source's, byte for byte.
 */
class CompressedTensorsOutputTest {
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

  private String yaml(Path model, String pass, String extra, Path out, String format)
      throws Exception {
    return "apiVersion: compress/v1\nkind: Pipeline\nmodel: "
        + model
        + "\ncalibration: {kind: tensors, source: "
        + tokens()
        + ", samples: 16, batchSize: 8}\npasses:\n  - "
        + pass
        + "\n"
        + extra
        + "output: {dir: "
        + out
        + (format == null ? "" : ", format: " + format)
        + "}\n";
  }

  /** Runs {@code pass} twice, as compressed-tensors and as ONNX; returns the two output dirs. */
  private Path[] runBoth(Path src, String pass) throws Exception {
    Path out = tmp.resolve("out");
    Path onnxOut = tmp.resolve("onnx-out");
    PipelineRunner runner = new PipelineRunner();
    RunOptions quiet = RunOptions.defaults().withOut(new PrintWriter(new StringWriter()));
    runner.run(
        PipelineSpec.fromYaml(yaml(src, pass, "", out, "compressed-tensors"), REGISTRY), quiet);
    runner.run(PipelineSpec.fromYaml(yaml(src, pass, "", onnxOut, null), REGISTRY), quiet);
    return new Path[] {out, onnxOut};
  }

  @Test
  void gptqActOrderGroupsArePackQuantizedAndUnpackToTheGraphsWeights() throws Exception {
    Path src = llama(false);
    Path[] dirs =
        runBoth(src, "{type: gptq, bits: 4, groupSize: 32, actOrder: true, ignore: [lm_head]}");
    Map<String, Tensor> b = sameAsGraph(src, dirs[0], dirs[1], 4, 32, true, 14);
    // actorder: group: every layer has its g_idx, a one-group layer's all zeros.
    assertThat(b.get("model.layers.0.self_attn.q_proj.weight_g_idx").toLongArray()).containsOnly(0);
    assertThat(b.get("model.layers.0.mlp.down_proj.weight_g_idx").toLongArray()).contains(0, 1);
    assertThat(b.get("model.layers.0.mlp.up_proj.weight_packed").shape())
        .containsExactly(64, 4); // 32 inputs, 8 codes per int32
    assertThat(b.get("model.layers.0.mlp.up_proj.weight_shape").toLongArray())
        .containsExactly(64, 32);
    assertThat(b).doesNotContainKey("model.layers.0.mlp.up_proj.weight_zero_point");

    JsonNode config = new ObjectMapper().readTree(dirs[0].resolve("config.json").toFile());
    JsonNode q = config.get("quantization_config");
    assertThat(q.get("quant_method").asText()).isEqualTo("compressed-tensors");
    assertThat(q.get("format").asText()).isEqualTo("pack-quantized");
    assertThat(q.get("quantization_status").asText()).isEqualTo("compressed");
    assertThat(q.get("version").asText()).isEqualTo(CompressedTensorsCheckpoint.VERSION);
    assertThat(q.get("ignore")).hasSize(1);
    assertThat(q.get("ignore").get(0).asText()).isEqualTo("lm_head");
    JsonNode g = q.at("/config_groups/group_0");
    assertThat(g.get("targets").get(0).asText()).isEqualTo("Linear");
    assertThat(g.get("format").asText()).isEqualTo("pack-quantized");
    JsonNode w = g.get("weights");
    assertThat(w.get("num_bits").asInt()).isEqualTo(4);
    assertThat(w.get("type").asText()).isEqualTo("int");
    assertThat(w.get("symmetric").asBoolean()).isTrue();
    assertThat(w.get("strategy").asText()).isEqualTo("group");
    assertThat(w.get("group_size").asInt()).isEqualTo(32);
    assertThat(w.get("actorder").asText()).isEqualTo("group");
    assertThat(config.get("hidden_size").asInt()).isEqualTo(32);
    assertThat(Files.readString(dirs[0].resolve("tokenizer.json"))).isEqualTo("{\"model\": {}}");
    assertThat(Files.exists(dirs[0].resolve("generation_config.json"))).isTrue();
    assertThat(
            new ObjectMapper()
                .readTree(dirs[0].resolve("manifest.json").toFile())
                .at("/output/format")
                .asText())
        .isEqualTo("compressed-tensors");
    // The folder parses as a compressed-tensors checkpoint under its own config.
    assertThat(CompressedTensorsCheckpoint.read(dirs[0])).hasSize(14);
  }

  @Test
  void rtnFourBitAsymmetricTiedAndEightBitPerChannelUnpackToTheGraphsWeights() throws Exception {
    Path src = llama(true);
    Path[] dirs =
        runBoth(
            src,
            "{type: rtn-quantization, bits: 4, granularity: per_group, groupSize: 32,"
                + " symmetric: false, ignore: [lm_head]}");
    Map<String, Tensor> b = sameAsGraph(src, dirs[0], dirs[1], 4, 32, false, 14);
    // Tied: lm_head stays float and shares the embedding (no lm_head tensor of its own).
    assertThat(b).doesNotContainKeys("lm_head.weight_packed", "lm_head.weight");
    assertThat(b.get("model.layers.0.mlp.up_proj.weight_zero_point").shape())
        .containsExactly(8, 1); // 64 outputs / 8 per int32, one group
    assertThat(b.get("model.layers.0.mlp.down_proj.weight_zero_point").shape())
        .containsExactly(4, 2); // 32 outputs / 8, two groups of 32 inputs

    deleteTree(dirs[0]);
    deleteTree(dirs[1]);
    dirs =
        runBoth(
            src,
            "{type: rtn-quantization, bits: 8, granularity: per_channel, symmetric: false,"
                + " ignore: [lm_head]}");
    b = sameAsGraph(src, dirs[0], dirs[1], 8, 0, false, 14);
    assertThat(b.get("model.layers.0.mlp.down_proj.weight_packed").shape())
        .containsExactly(32, 16); // 64 inputs, 4 codes per int32
    assertThat(b.get("model.layers.0.mlp.down_proj.weight_scale").shape()).containsExactly(32, 1);
    JsonNode w =
        new ObjectMapper()
            .readTree(dirs[0].resolve("config.json").toFile())
            .at("/quantization_config/config_groups/group_0/weights");
    assertThat(w.get("num_bits").asInt()).isEqualTo(8);
    assertThat(w.get("strategy").asText()).isEqualTo("channel");
    assertThat(w.get("group_size").isNull()).isTrue();
    assertThat(w.get("actorder").isNull()).isTrue();
    assertThat(w.get("symmetric").asBoolean()).isFalse();
  }

  @Test
  void badInputsAreRefusedOneLineEach() throws Exception {
    Path src = llama(false);
    Path out = tmp.resolve("out");
    PipelineRunner runner = new PipelineRunner();
    String ct = "compressed-tensors";
    refused(
        runner,
        yaml(src, "{type: gptq, bits: 3, groupSize: 32, ignore: [lm_head]}", "", out, ct),
        "bits 3: compressed-tensors pack-quantized holds 4- or 8-bit weights");
    refused(
        runner,
        yaml(src, "{type: gptq, bits: 4, groupSize: 32}", "", out, ct),
        "the selection quantizes lm_head, which this output keeps float; HINT: ignore: [lm_head]");
    refused(
        runner,
        yaml(
            src,
            "{type: rtn-quantization, bits: 4, granularity: per_group, groupSize: 32,"
                + " targets: ['re:.*mlp.*']}",
            "  - {type: rtn-quantization, bits: 8, granularity: per_channel,"
                + " ignore: ['re:.*mlp.*', lm_head]}\n",
            out,
            ct),
        "this output writes one config group for every layer");
    refused(
        runner,
        yaml(
            src,
            "{type: rtn-quantization, bits: 4, embeddings: true, ignore: [lm_head]}",
            "",
            out,
            ct),
        "embeddings true quantizes the embedding table");
    refused(
        runner,
        yaml(src, "{type: smoothquant, ignore: [lm_head]}", "", out, ct),
        "output.format compressed-tensors writes models of rtn-quantization or gptq");
    Path gpt2 = tmp.resolve("gpt2");
    SyntheticCheckpoint.write(gpt2, GPT2, DataType.FLOAT, 3, 1);
    refused(
        runner,
        yaml(gpt2, "{type: gptq, bits: 4, groupSize: 32, ignore: [lm_head]}", "", out, ct),
        "GPT2LMHeadModel is not supported yet");
    Path onnx = tmp.resolve("m.onnx");
    dev.compress.api.io.onnx.OnnxWriter.write(
        dev.compress.fixtures.TinyModels.mlp(32, 64, 32, 1), onnx);
    refused(
        runner,
        yaml(onnx, "{type: gptq, bits: 4, groupSize: 32}", "", out, ct),
        "output.format compressed-tensors needs a Hugging Face folder as model");
    assertThat(Files.exists(out)).isFalse();
    assertThatThrownBy(
            () ->
                PipelineSpec.fromYaml(
                    yaml(src, "{type: gptq}", "", out, ct).replace(ct, "gguf"), REGISTRY))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("compressed-tensors]");
  }

  private static void refused(PipelineRunner runner, String yaml, String message) {
    assertThatThrownBy(() -> runner.validate(PipelineSpec.fromYaml(yaml, REGISTRY)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(message);
  }

  /**
   * The pack-quantized tensors in {@code out} unpack to the graph's quantized weights in {@code
   * onnxOut} (codes and zero points exactly, scales as f16-rounded), and every tensor of the source
   * that is not a quantized module's weight is written byte for byte.
   */
  private static Map<String, Tensor> sameAsGraph(
      Path src, Path out, Path onnxOut, int bits, int groupSize, boolean sym, int layers)
      throws Exception {
    ModelGraph quantized = ModelFiles.load(onnxOut.resolve("model.onnx").toString()).model();
    Map<String, GroupQuantizedWeight> graph = QuantizedGraphWeights.read(quantized, bits, sym);
    Map<String, Tensor> b = SafetensorsReader.read(out.resolve("model.safetensors")).tensors();
    assertThat(graph).hasSize(layers);
    for (Map.Entry<String, GroupQuantizedWeight> e : graph.entrySet()) {
      GroupQuantizedWeight w = e.getValue();
      assertThat(b.get(e.getKey() + ".weight_scale").dtype()).isEqualTo(DataType.FLOAT16);
      GroupQuantizedWeight r = PackQuantizedLayout.unpack(b, e.getKey(), bits, groupSize, sym);
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
    HfCheckpoint a = HfFolderReader.read(src);
    List<String> kept = new ArrayList<>();
    for (String n : a.tensors().keySet()) {
      String module = n.substring(0, n.lastIndexOf('.'));
      if (graph.containsKey(module)) {
        assertThat(b).as(n).doesNotContainKey(n);
      } else {
        assertThat(b.get(n).data()).as(n).isEqualTo(a.tensor(n).data());
        kept.add(n);
      }
    }
    assertThat(kept).contains("model.embed_tokens.weight", "model.norm.weight");
    return b;
  }

  private static void deleteTree(Path p) throws Exception {
    try (var s = Files.walk(p)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
}
