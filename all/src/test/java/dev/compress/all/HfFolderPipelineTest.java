package dev.compress.all;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.ModelFiles;
import dev.compress.api.io.hf.DecoderGraph;
import dev.compress.api.io.hf.HfCheckpoint;
import dev.compress.api.io.hf.HfFolderReader;
import dev.compress.api.io.hf.SyntheticCheckpoint;
import dev.compress.api.io.safetensors.SafetensorsReader;
import dev.compress.api.pipeline.GateFailedException;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.RunOptions;
import dev.compress.api.pipeline.RunResult;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.evaluation.task.StreamPerplexity;
import dev.compress.evaluation.task.TaskKind;
import dev.compress.evaluation.task.TaskOutcome;
import dev.compress.evaluation.task.TaskSpec;
import dev.compress.quantization.format.compressedtensors.SparseBitmaskLayout;
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
 * Pipelines over a tiny synthetic Llama folder that need several modules at once: {@code evaluate}
 * with the {@code perplexity} task (quantization + evaluation), and the sparse layouts of {@code
 * output: {format: compressed-tensors}} (pruning + quantization's output format).
 */
class HfFolderPipelineTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String LLAMA =
      """
      {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 48,
       "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
       "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 32,
       "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
       "tie_word_embeddings": false, "torch_dtype": "%s"}
      """;

  @TempDir Path tmp;

  /** A Llama folder with a WordLevel tokenizer over w0..w46 (+ [UNK] = 47). */
  private Path llama(DataType dtype) throws Exception {
    Path src = tmp.resolve("llama");
    SyntheticCheckpoint.write(
        src, LLAMA.formatted(dtype == DataType.FLOAT16 ? "float16" : "float32"), dtype, 21, 1);
    ObjectNode t = JSON.createObjectNode();
    t.put("version", "1.0");
    t.putNull("truncation");
    t.putNull("padding");
    t.putArray("added_tokens");
    t.putNull("normalizer");
    t.putObject("pre_tokenizer").put("type", "Whitespace");
    t.putNull("post_processor");
    t.putNull("decoder");
    ObjectNode model = t.putObject("model");
    model.put("type", "WordLevel");
    ObjectNode vocab = model.putObject("vocab");
    for (int i = 0; i < 47; i++) {
      vocab.put("w" + i, i);
    }
    vocab.put("[UNK]", 47);
    model.put("unk_token", "[UNK]");
    Files.writeString(src.resolve("tokenizer.json"), t.toString());
    return src;
  }

  private Path heldOut() throws Exception {
    Random r = new Random(9);
    StringBuilder text = new StringBuilder();
    for (int line = 0; line < 12; line++) {
      for (int i = 0; i < 16; i++) {
        text.append('w').append(r.nextInt(47)).append(' ');
      }
      text.append('\n');
    }
    return Files.writeString(tmp.resolve("heldout.txt"), text);
  }

  private static String pipeline(Path model, String passes, String evaluate, Path out, String fmt) {
    return "apiVersion: compress/v1\nkind: Pipeline\nmodel: "
        + model
        + "\npasses:\n"
        + passes
        + evaluate
        + "output: {dir: "
        + out
        + (fmt == null ? "" : ", format: " + fmt)
        + "}\n";
  }

  private static RunResult run(String yaml) throws Exception {
    return new PipelineRunner()
        .run(
            PipelineSpec.fromYaml(yaml),
            RunOptions.defaults().withOut(new PrintWriter(new StringWriter())));
  }

  @Test
  void rtnOverAFolderIsEvaluatedOnPerplexityWithAGateOnTheRatio() throws Exception {
    Path src = llama(DataType.FLOAT16);
    Path data = heldOut();
    String rtn =
        "  - {type: rtn-quantization, bits: 4, granularity: per_group, groupSize: 32,"
            + " ignore: [lm_head]}\n";
    String evaluate =
        "evaluate: {task: perplexity, data: "
            + data
            + ", samples: 100, latencyBatchSizes: [], gates: {perplexity.ratio: '<= 1.5'}}\n";
    Path out = tmp.resolve("out");
    RunResult r = run(pipeline(src, rtn, evaluate, out, "hf-gptq"));
    Map<String, Double> m = r.evaluation().orElseThrow().metrics();

    // The original's perplexity is StreamPerplexity's on the folder's own graph, computed here.
    HfCheckpoint ck = HfFolderReader.read(src);
    ModelGraph g = DecoderGraph.build(ck);
    TaskOutcome direct;
    try (Executor x = ExecutorFactory.of("onnxruntime").create(g, Device.CPU)) {
      direct =
          StreamPerplexity.run(
              new TaskSpec(TaskKind.PERPLEXITY, data.toString(), 100, "", 1),
              List.of(x),
              src.resolve("tokenizer.json"),
              32);
    }
    double ppl = direct.perVariant().get(0).get("perplexity");
    System.out.printf(
        "[hf-eval] tiny Llama: ppl original %.4f, compressed %.4f, ratio %.5f%n",
        m.get("perplexity.original"), m.get("perplexity.compressed"), m.get("perplexity.ratio"));
    assertThat(m.get("perplexity.original")).isEqualTo(ppl);
    // A random model predicts worse than uniform over the 48 tokens: measured 81.96 (f16).
    assertThat(ppl).isBetween(48.0, 200.0);
    assertThat(m.get("perplexity.compressed")).isNotEqualTo(ppl);
    assertThat(m.get("perplexity.ratio"))
        .isEqualTo(m.get("perplexity.compressed") / m.get("perplexity.original"));
    // 192-token stream, windows of the model length 32: 6 windows (the same in the pipeline, as
    // the equal perplexities show).
    assertThat(direct.settings()).containsEntry("window", "32").containsEntry("windows", "6");
    JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
    assertThat(report.toString()).contains("perplexity.original", "perplexity.compressed");
    JsonNode manifest = JSON.readTree(out.resolve("manifest.json").toFile());
    assertThat(manifest.toString()).contains("perplexity.ratio");
    // The evaluation left nothing of its own in the output: the GPTQ folder only.
    try (var files = Files.list(out)) {
      assertThat(
              files
                  .map(p -> p.getFileName().toString())
                  .filter(n -> n.endsWith(".onnx") || n.startsWith(".evaluate")))
          .isEmpty();
    }

    // A gate the ratio cannot meet fails the run after the output is written.
    Path out2 = tmp.resolve("out2");
    assertThatThrownBy(
            () -> run(pipeline(src, rtn, evaluate.replace("<= 1.5", "<= 0.5"), out2, null)))
        .isInstanceOf(GateFailedException.class)
        .hasMessageContaining("perplexity.ratio");
    assertThat(Files.exists(out2.resolve("model.onnx"))).isTrue();
  }

  @Test
  void evaluatingAFolderWithoutATokenizerIsRefusedBeforeThePasses() throws Exception {
    Path src = llama(DataType.FLOAT);
    Files.delete(src.resolve("tokenizer.json"));
    Path data = heldOut();
    String yaml =
        pipeline(
            src,
            "  - {type: rtn-quantization, bits: 8, granularity: per_channel}\n",
            "evaluate: {task: perplexity, data: " + data + ", latencyBatchSizes: []}\n",
            tmp.resolve("out"),
            null);
    assertThatThrownBy(() -> new PipelineRunner().validate(PipelineSpec.fromYaml(yaml)))
        .hasMessageContaining("evaluate.task perplexity: model: text data needs the model's")
        .hasMessageContaining("tokenizer.json");
  }

  @Test
  void twoFourMagnitudePruningIsWrittenAsSparse24Bitmask() throws Exception {
    Path src = llama(DataType.FLOAT16);
    String prune = "  - {type: magnitude-pruning, pattern: '2:4', targets: ['re:.*mlp.*']}\n";
    Path out = tmp.resolve("out");
    run(pipeline(src, prune, "", out, "compressed-tensors"));
    Path onnxOut = tmp.resolve("onnx-out");
    run(pipeline(src, prune, "", onnxOut, null));
    List<String> pruned = sparseSameAsGraph(src, out, onnxOut, 6);
    assertThat(pruned).allMatch(n -> n.contains(".mlp."));
    Map<String, Tensor> b = SafetensorsReader.read(out.resolve("model.safetensors")).tensors();
    assertThat(b.get("model.layers.0.mlp.up_proj.compressed").shape()).containsExactly(64, 16);
    assertThat(b.get("model.layers.0.mlp.up_proj.bitmask").shape()).containsExactly(64, 4);
    assertThat(b.get("model.layers.0.mlp.up_proj.shape").shape()).containsExactly(2, 1);
    JsonNode q = JSON.readTree(out.resolve("config.json").toFile()).get("quantization_config");
    assertThat(q.get("quant_method").asText()).isEqualTo("compressed-tensors");
    assertThat(q.has("version")).isTrue();
    JsonNode s = q.get("sparsity_config");
    assertThat(s.get("format").asText()).isEqualTo("sparse-24-bitmask");
    assertThat(s.get("sparsity_structure").asText()).isEqualTo("2:4");
    assertThat(s.get("targets").get(0).asText()).isEqualTo("Linear");
    List<String> ignore = new ArrayList<>();
    s.get("ignore").forEach(n -> ignore.add(n.asText()));
    assertThat(ignore).contains("lm_head", "model.layers.1.self_attn.q_proj").hasSize(9);
    // Half of the 6 MLP matrices of 2048 weights, of 21664 parameters: 0.2836.
    assertThat(s.get("global_sparsity").asDouble()).isBetween(0.2, 0.3);
  }

  @Test
  void unstructuredMagnitudePruningIsWrittenAsSparseBitmask() throws Exception {
    Path src = llama(DataType.FLOAT16);
    String prune = "  - {type: magnitude-pruning, sparsity: 0.6, ignore: [lm_head]}\n";
    Path out = tmp.resolve("out");
    run(pipeline(src, prune, "", out, "compressed-tensors"));
    Path onnxOut = tmp.resolve("onnx-out");
    run(pipeline(src, prune, "", onnxOut, null));
    assertThat(sparseSameAsGraph(src, out, onnxOut, 14)).hasSize(14);
    Map<String, Tensor> b = SafetensorsReader.read(out.resolve("model.safetensors")).tensors();
    assertThat(b).containsKey("model.layers.1.self_attn.k_proj.row_offsets");
    JsonNode s =
        JSON.readTree(out.resolve("config.json").toFile())
            .at("/quantization_config/sparsity_config");
    assertThat(s.get("format").asText()).isEqualTo("sparse-bitmask");
    assertThat(s.get("sparsity_structure").asText()).isEqualTo("unstructured");
    assertThat(s.get("ignore").get(0).asText()).isEqualTo("lm_head");
  }

  @Test
  void prunedThenQuantizedIsWrittenPackQuantized() throws Exception {
    Path src = llama(DataType.FLOAT16);
    String passes =
        "  - {type: magnitude-pruning, pattern: '2:4', ignore: [lm_head]}\n"
            + "  - {type: rtn-quantization, bits: 4, granularity: per_group, groupSize: 32,"
            + " ignore: [lm_head]}\n";
    Path out = tmp.resolve("out");
    run(pipeline(src, passes, "", out, "compressed-tensors"));
    JsonNode q = JSON.readTree(out.resolve("config.json").toFile()).get("quantization_config");
    assertThat(q.get("format").asText()).isEqualTo("pack-quantized");
    assertThat(q.get("sparsity_config").isEmpty()).isTrue();
    Map<String, Tensor> b = SafetensorsReader.read(out.resolve("model.safetensors")).tensors();
    assertThat(b.keySet().stream().filter(k -> k.endsWith(".weight_packed"))).hasSize(14);
    assertThat(b.keySet().stream().filter(k -> k.endsWith(".bitmask"))).isEmpty();
  }

  /**
   * The sparse tensors in {@code out} decompress to the weights of the same run written as ONNX
   * (rounded to the checkpoint's f16, byte for byte); every other tensor is the source's.
   *
   * @return the modules written sparse
   */
  private static List<String> sparseSameAsGraph(Path src, Path out, Path onnxOut, int expected)
      throws Exception {
    ModelGraph graph = ModelFiles.load(onnxOut.resolve("model.onnx").toString()).model();
    HfCheckpoint a = HfFolderReader.read(src);
    Map<String, Tensor> b = SafetensorsReader.read(out.resolve("model.safetensors")).tensors();
    List<String> sparse = new ArrayList<>();
    for (String n : a.tensors().keySet()) {
      String module = n.substring(0, n.lastIndexOf('.'));
      if (b.containsKey(module + ".compressed")) {
        Tensor dense = SparseBitmaskLayout.unpack(b, module);
        Tensor w =
            graph.graph().constant(graph.graph().node(module).orElseThrow().input(1)).orElseThrow();
        Tensor f16 = Tensor.ofFloats(n, DataType.FLOAT16, w.shape(), w.toFloatArray());
        assertThat(dense.data()).as(n).isEqualTo(f16.data());
        assertThat(b).doesNotContainKey(n);
        sparse.add(module);
      } else {
        assertThat(b.get(n).data()).as(n).isEqualTo(a.tensor(n).data());
      }
    }
    assertThat(sparse).hasSize(expected);
    return sparse;
  }
}
