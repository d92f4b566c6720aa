package dev.compress.evaluation.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.hf.DecoderGraph;
import dev.compress.api.io.hf.HfCheckpoint;
import dev.compress.api.io.hf.HfFolderReader;
import dev.compress.api.io.hf.SyntheticCheckpoint;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.evaluation.TinyModels;
import dev.compress.evaluation.engine.EngineKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The stream/window perplexity protocol on models whose answer is known. */
class StreamPerplexityTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** A WordLevel tokenizer.json over {@code words} (ids in order) plus [UNK], split on spaces. */
  static Path wordTokenizer(Path file, List<String> words) throws Exception {
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
    for (int i = 0; i < words.size(); i++) {
      vocab.put(words.get(i), i);
    }
    vocab.put("[UNK]", words.size());
    model.put("unk_token", "[UNK]");
    Files.writeString(file, t.toString());
    return file;
  }

  @ParameterizedTest
  @EnumSource(EngineKind.class)
  void windowsOfTheJoinedStreamAreScoredExactly(EngineKind kind) throws Exception {
    Path model =
        TinyModels.bigram(dir.resolve("bigram.onnx"), TaskRunnerTest.logP(TaskRunnerTest.P));
    Path tok = wordTokenizer(dir.resolve("tokenizer.json"), List.of("a", "b", "c"));
    Path text = Files.writeString(dir.resolve("heldout.txt"), "a a b\n\nb c a c\n");
    // Stream a a b b c a c = 0 0 1 1 2 0 2; windows of 3: [0 0 1] [1 2 0], the tail [2] dropped.
    // Predicted inside windows: 0>0, 0>1 | 1>2, 2>0.
    double nll = -(Math.log(0.7) + Math.log(0.2) + Math.log(0.1) + Math.log(0.25)) / 4;
    try (Executor x = TaskRunnerTest.engine(kind).open(model)) {
      TaskOutcome o =
          TaskRunner.run(
              new TaskSpec(TaskKind.PERPLEXITY, text.toString(), 300, "", 1),
              List.of(x, x),
              Optional.of(tok),
              List.of(),
              OptionalInt.of(3));
      assertThat(o.perVariant().get(0).get("perplexity")).isCloseTo(Math.exp(nll), within(1e-5));
      assertThat(o.perVariant().get(1).get("logits.kl")).isEqualTo(0.0);
      assertThat(o.perVariant().get(1).get("top1.agreement")).isEqualTo(1.0);
      assertThat(o.settings()).containsEntry("window", "3").containsEntry("windows", "2");
      assertThat(o.data().get("text").count()).isEqualTo(2);
      // sha256sum of "a a b\nb c a c\n"
      assertThat(o.data().get("text").sha256())
          .isEqualTo(
              dev.compress.runtime.calibration.TextSamples.sha256(List.of("a a b", "b c a c")));
      assertThat(o.data().get("tokens").count()).isEqualTo(6);
    }
  }

  @Test
  void nearUniformLogitsGiveAPerplexityNearTheVocabulary() throws Exception {
    ObjectNode c = JSON.createObjectNode();
    c.putArray("architectures").add("LlamaForCausalLM");
    c.put("vocab_size", 48);
    c.put("hidden_size", 16);
    c.put("intermediate_size", 24);
    c.put("num_hidden_layers", 1);
    c.put("num_attention_heads", 2);
    c.put("max_position_embeddings", 32);
    Path folder = dir.resolve("llama");
    SyntheticCheckpoint.write(folder, c.toString(), DataType.FLOAT, 3, 1);
    HfCheckpoint ck = HfFolderReader.read(folder);
    ModelGraph g = DecoderGraph.build(ck);
    // A head 1000x smaller: logits within about +-0.01 of 0, so p ~ 1/48 for every token.
    float[] head = ck.tensor("lm_head.weight").toFloatArray();
    for (int i = 0; i < head.length; i++) {
      head[i] *= 1e-3f;
    }
    g.graph()
        .putInitializer(
            Tensor.ofFloats("lm_head.weight", ck.tensor("lm_head.weight").shape(), head));
    List<String> words = new ArrayList<>();
    for (int i = 0; i < 47; i++) {
      words.add("w" + i);
    }
    Path tok = wordTokenizer(dir.resolve("tokenizer.json"), words);
    Random r = new Random(5);
    StringBuilder text = new StringBuilder();
    for (int line = 0; line < 30; line++) {
      for (int i = 0; i < 20; i++) {
        text.append("w").append(r.nextInt(47)).append(' ');
      }
      text.append('\n');
    }
    Path data = Files.writeString(dir.resolve("heldout.txt"), text);
    try (Executor x = ExecutorFactory.of("onnxruntime").create(g, Device.CPU)) {
      TaskOutcome o =
          TaskRunner.run(
              new TaskSpec(TaskKind.PERPLEXITY, data.toString(), 300, "", 1),
              List.of(x),
              Optional.of(tok),
              List.of(),
              OptionalInt.of(Integer.parseInt(g.metadata().get(DecoderGraph.MODEL_LENGTH_KEY))));
      double ppl = o.perVariant().get(0).get("perplexity");
      System.out.printf("[stream-ppl] near-uniform tiny Llama: ppl %.4f (vocab 48)%n", ppl);
      assertThat(ppl).isCloseTo(48, within(0.1)); // measured 47.9998
      // 600 tokens, not truncated at 512 by the tokenizer: 18 windows of 32, the tail of 24
      // dropped.
      assertThat(o.settings()).containsEntry("stream.tokens", "600").containsEntry("windows", "18");
    }
  }
}
