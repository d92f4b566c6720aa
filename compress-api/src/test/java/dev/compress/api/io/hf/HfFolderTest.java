package dev.compress.api.io.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.CompressionException;
import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.graph.GraphCheck;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reading, building and writing Hugging Face folders of tiny random decoders. */
class HfFolderTest {
  @TempDir Path dir;

  private Path synth(String name, ObjectNode config, DataType dtype, int shards) throws Exception {
    Path f = dir.resolve(name);
    SyntheticCheckpoint.write(f, config.toString(), dtype, 7, shards);
    return f;
  }

  private static ObjectNode config(String arch) {
    return arch.equals("llama") ? TinyConfigs.llama() : TinyConfigs.gpt2();
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "gpt2"})
  void theGraphIsValidAndItsLinearLayersCarryTheModuleNames(String arch) throws Exception {
    HfCheckpoint ck = HfFolderReader.read(synth("m", config(arch), DataType.FLOAT16, 1));
    assertThat(ck.dtype()).isEqualTo(DataType.FLOAT16);
    ModelGraph g = DecoderGraph.build(ck);
    assertThat(GraphCheck.errors(g)).isEmpty();
    List<String> names = LinearLayers.of(g.graph()).stream().map(LinearLayer::name).toList();
    if (arch.equals("llama")) {
      assertThat(names)
          .contains(
              "model.layers.1.self_attn.q_proj",
              "model.layers.1.self_attn.k_proj",
              "model.layers.0.mlp.down_proj",
              "lm_head")
          .hasSize(2 * 7 + 1);
      LinearLayer q = LinearLayers.of(g.graph()).get(0);
      assertThat(q.layout()).isEqualTo(LinearLayer.WeightLayout.OUT_IN);
      assertThat(q.outFeatures()).isEqualTo(32);
      assertThat(q.norm()).isPresent();
      // The weight is the mapped checkpoint tensor itself, f16.
      assertThat(g.graph().initializers().get(q.weight()).data().isDirect()).isTrue();
    } else {
      assertThat(names)
          .contains(
              "transformer.h.0.attn.c_attn.q",
              "transformer.h.0.attn.c_attn.v",
              "transformer.h.1.mlp.c_fc",
              "lm_head")
          .hasSize(2 * 6 + 1);
      LinearLayer fc =
          LinearLayers.of(g.graph()).stream()
              .filter(l -> l.name().equals("transformer.h.1.mlp.c_fc"))
              .findFirst()
              .orElseThrow();
      assertThat(fc.layout()).isEqualTo(LinearLayer.WeightLayout.IN_OUT);
      assertThat(fc.outFeatures()).isEqualTo(128);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "gpt2"})
  void shardedReadsEqualUnsharded(String arch) throws Exception {
    HfCheckpoint one = HfFolderReader.read(synth("one", config(arch), DataType.BFLOAT16, 1));
    HfCheckpoint three = HfFolderReader.read(synth("three", config(arch), DataType.BFLOAT16, 3));
    assertThat(three.sharded()).isTrue();
    assertThat(three.weightFiles().values()).contains("model-00003-of-00003.safetensors");
    assertThat(three.tensors().keySet())
        .containsExactlyInAnyOrderElementsOf(one.tensors().keySet());
    for (String n : one.tensors().keySet()) {
      assertThat(three.tensor(n).data()).as(n).isEqualTo(one.tensor(n).data());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "gpt2"})
  void readWriteReadIsByteIdentical(String arch) throws Exception {
    for (int shards : new int[] {1, 2}) {
      Path src = synth(arch + shards, config(arch), DataType.FLOAT16, shards);
      Files.writeString(src.resolve("tokenizer.json"), "{}");
      Files.writeString(src.resolve("generation_config.json"), "{\"max_length\": 20}");
      HfCheckpoint a = HfFolderReader.read(src);
      Path out = dir.resolve(arch + shards + "-out");
      HfFolderWriter.write(a, DecoderGraph.build(a), out);
      HfCheckpoint b = HfFolderReader.read(out);
      assertThat(b.tensors().keySet()).containsExactlyElementsOf(a.tensors().keySet());
      for (String n : a.tensors().keySet()) {
        assertThat(b.tensor(n).dtype()).isEqualTo(a.tensor(n).dtype());
        assertThat(b.tensor(n).data()).as(n).isEqualTo(a.tensor(n).data());
      }
      // Files too: same layout, same headers, same config, tokenizer and generation config.
      try (var s = Files.list(src)) {
        for (Path p : s.toList()) {
          assertThat(Files.mismatch(p, out.resolve(p.getFileName())))
              .as(p.toString())
              .isEqualTo(-1);
        }
      }
      assertThat(b.tokenizer()).isPresent();
      assertThat(b.generationConfig()).isPresent();
    }
  }

  @Test
  void replacementTensorsTakeAModulesWeightAndItsBiasComesFromTheBiasAdd() throws Exception {
    ObjectNode c = TinyConfigs.llama();
    c.put("attention_bias", true);
    HfCheckpoint a = HfFolderReader.read(synth("qkv-bias", c, DataType.FLOAT16, 1));
    ModelGraph g = DecoderGraph.build(a);
    String m = "model.layers.0.self_attn.q_proj";
    assertThat(a.tensors()).containsKey(m + ".bias");
    // As a quantizer leaves it: the Gemm's bias moved into <module>_bias_add.
    float[] bias = a.tensor(m + ".bias").toFloatArray();
    bias[0] += 1f;
    g.graph().putInitializer(Tensor.ofFloats("moved_bias", new long[] {bias.length}, bias));
    g.graph()
        .nodes()
        .add(Node.of(m + "_bias_add", "Add", List.of("x", "moved_bias"), List.of("y")));
    Tensor packed = Tensor.ofInts(m + ".qweight", new long[] {2}, 7, 9);
    Path out = Files.createDirectories(dir.resolve("replaced"));
    HfFolderWriter.writeInto(
        a, g, out, Map.of(m, List.of(packed)), Map.of("quantization_config", Map.of("bits", 4)));
    Map<String, Tensor> b =
        dev.compress.api.io.safetensors.SafetensorsReader.read(out.resolve(HfFolderReader.WEIGHTS))
            .tensors();
    assertThat(b).doesNotContainKey(m + ".weight");
    assertThat(b.get(m + ".qweight").toLongArray()).containsExactly(7, 9);
    assertThat(b.get(m + ".bias").dtype()).isEqualTo(DataType.FLOAT16);
    assertThat(b.get(m + ".bias").toFloatArray()[0])
        .isEqualTo(Float.float16ToFloat(Float.floatToFloat16(bias[0])));
    for (String n : a.tensors().keySet()) {
      if (!n.startsWith(m + ".")) {
        assertThat(b.get(n).data()).as(n).isEqualTo(a.tensor(n).data());
      }
    }
    assertThat(
            HfConfig.JSON
                .readTree(out.resolve(HfFolderReader.CONFIG).toFile())
                .at("/quantization_config/bits")
                .asInt())
        .isEqualTo(4);
    assertThatThrownBy(
            () ->
                HfFolderWriter.writeInto(
                    a, g, dir, Map.of("model.nothing", List.of(packed)), Map.of()))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("module 'model.nothing' has no tensor 'model.nothing.weight'");
  }

  @Test
  void aHeadGivenItsOwnWeightIsWrittenUntied() throws Exception {
    HfCheckpoint a = HfFolderReader.read(synth("tied", TinyConfigs.gpt2(), DataType.FLOAT, 1));
    ModelGraph g = DecoderGraph.build(a);
    Tensor wte = a.tensor("transformer.wte.weight");
    g.graph().putInitializer(Tensor.ofFloats("lm_head.weight", wte.shape(), wte.toFloatArray()));
    g.graph().node("lm_head").orElseThrow().inputs().set(1, "lm_head.weight");
    Path out = dir.resolve("untied");
    HfFolderWriter.write(a, g, out);
    HfCheckpoint b = HfFolderReader.read(out);
    assertThat(b.config().tieWordEmbeddings()).isFalse();
    assertThat(b.tensor("lm_head.weight").data()).isEqualTo(wte.data());
  }

  @Test
  void llamaConfigVariantsAreRead() throws Exception {
    ObjectNode c = TinyConfigs.llama();
    c.putArray("architectures").add("Qwen2ForCausalLM");
    c.putObject("rope_scaling")
        .put("rope_type", "llama3")
        .put("factor", 8.0)
        .put("low_freq_factor", 1.0)
        .put("high_freq_factor", 4.0)
        .put("original_max_position_embeddings", 64);
    HfCheckpoint q = HfFolderReader.read(synth("qwen", c, DataType.FLOAT, 1));
    assertThat(q.config().qkvBias()).isTrue();
    assertThat(q.tensors()).containsKey("model.layers.0.self_attn.q_proj.bias");
    assertThat(q.config().rope().type()).isEqualTo("llama3");
    float[] inv = q.config().rope().inverseFrequencies(10000, 8);
    // Highest frequency kept (wavelength 6.3 < 64/4), lowest divided by 8 (6283 > 64/1).
    assertThat(inv[0]).isEqualTo(1f);
    assertThat(inv[3])
        .isCloseTo(
            (float) (1 / Math.pow(10000, 6 / 8.0) / 8),
            org.assertj.core.api.Assertions.within(1e-9f));
  }

  @Test
  void errorsNameTheFileAndKey() throws Exception {
    ObjectNode bad = TinyConfigs.llama();
    bad.putArray("architectures").add("BertModel");
    Path f = dir.resolve("bert");
    Files.createDirectories(f);
    Files.writeString(f.resolve("config.json"), bad.toString());
    assertThatThrownBy(() -> HfFolderReader.read(f))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("config.json")
        .hasMessageContaining("architectures[0] 'BertModel' is not supported");

    ObjectNode dyn = TinyConfigs.llama();
    dyn.putObject("rope_scaling").put("type", "dynamic").put("factor", 2.0);
    Path d = dir.resolve("dyn");
    Files.createDirectories(d);
    Files.writeString(d.resolve("config.json"), dyn.toString());
    assertThatThrownBy(() -> HfFolderReader.read(d))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("rope_scaling.type 'dynamic' is not supported");

    ObjectNode kv = TinyConfigs.llama();
    kv.put("num_key_value_heads", 3);
    Path k = dir.resolve("kv");
    Files.createDirectories(k);
    Files.writeString(k.resolve("config.json"), kv.toString());
    assertThatThrownBy(() -> HfFolderReader.read(k))
        .isInstanceOf(CorruptCheckpointException.class)
        .hasMessageContaining("num_attention_heads 4 is not a multiple of num_key_value_heads 3");

    Path sharded = synth("sharded", TinyConfigs.llama(), DataType.FLOAT, 3);
    Files.delete(sharded.resolve("model-00002-of-00003.safetensors"));
    assertThatThrownBy(() -> HfFolderReader.read(sharded))
        .isInstanceOf(CorruptCheckpointException.class)
        .hasMessageContaining("model.safetensors.index.json")
        .hasMessageContaining("shard 'model-00002-of-00003.safetensors', which does not exist");

    // A config that disagrees with the weights: wrong shape, named with its file and tensor.
    Path shape = synth("shape", TinyConfigs.llama(), DataType.FLOAT, 1);
    ObjectNode wider = TinyConfigs.llama();
    wider.put("intermediate_size", 41);
    Files.writeString(shape.resolve("config.json"), wider.toString());
    assertThatThrownBy(() -> HfFolderReader.read(shape))
        .isInstanceOf(CorruptCheckpointException.class)
        .hasMessageContaining("model.safetensors")
        .hasMessageContaining(
            "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [40, 32], config.json implies [41, 32]");

    // Untied head missing.
    Path tied = synth("tiedmissing", TinyConfigs.llama(), DataType.FLOAT, 1);
    HfCheckpoint ok = HfFolderReader.read(tied);
    List<Tensor> without =
        ok.tensors().values().stream().filter(t -> !t.name().equals("lm_head.weight")).toList();
    dev.compress.api.io.safetensors.SafetensorsWriter.write(
        tied.resolve("model.safetensors"), without, Map.of("format", "pt"));
    assertThatThrownBy(() -> HfFolderReader.read(tied))
        .isInstanceOf(CorruptCheckpointException.class)
        .hasMessageContaining(
            "missing tensor 'lm_head.weight' (config.json has tie_word_embeddings false)");

    Path empty = dir.resolve("noweights");
    Files.createDirectories(empty);
    Files.writeString(empty.resolve("config.json"), TinyConfigs.gpt2().toString());
    Files.writeString(empty.resolve("pytorch_model.bin"), "");
    assertThatThrownBy(() -> HfFolderReader.read(empty))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("only PyTorch .bin weights");

    Path notEmpty = synth("target", TinyConfigs.gpt2(), DataType.FLOAT, 1);
    assertThatThrownBy(() -> HfFolderWriter.write(ok, DecoderGraph.build(ok), notEmpty))
        .isInstanceOf(CompressionException.class)
        .hasMessageContaining("exists and is not empty");
  }
}
