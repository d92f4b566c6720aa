package dev.compress.runtime.hf;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.hf.DecoderGraph;
import dev.compress.api.io.hf.HfCheckpoint;
import dev.compress.api.io.hf.HfFolderReader;
import dev.compress.api.io.hf.SyntheticCheckpoint;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The decoder graphs of tiny random checkpoints, run in ONNX Runtime and in the DJL interpreter,
 * against {@link DecoderReference} on the same weights: batch 2, the second sequence right-padded.
 */
class DecoderForwardTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  static ObjectNode config(String variant) {
    ObjectNode c = JSON.createObjectNode();
    if (variant.equals("gpt2")) {
      c.putArray("architectures").add("GPT2LMHeadModel");
      c.put("vocab_size", 48);
      c.put("n_embd", 32);
      c.put("n_layer", 2);
      c.put("n_head", 4);
      c.put("n_positions", 16);
      return c;
    }
    c.putArray("architectures")
        .add(
            switch (variant) {
              case "mistral" -> "MistralForCausalLM";
              case "qwen2" -> "Qwen2ForCausalLM";
              default -> "LlamaForCausalLM";
            });
    c.put("vocab_size", 48);
    c.put("hidden_size", 32);
    c.put("intermediate_size", 40);
    c.put("num_hidden_layers", 2);
    c.put("num_attention_heads", 4);
    c.put("num_key_value_heads", 2);
    c.put("max_position_embeddings", 64);
    c.put("rms_norm_eps", 1e-5);
    c.put("rope_theta", 500.0);
    c.put("tie_word_embeddings", variant.equals("qwen2"));
    if (variant.equals("mistral")) {
      c.put("sliding_window", 3);
      c.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
    }
    if (variant.equals("llama")) {
      c.putObject("rope_scaling")
          .put("rope_type", "llama3")
          .put("factor", 8.0)
          .put("low_freq_factor", 1.0)
          .put("high_freq_factor", 4.0)
          .put("original_max_position_embeddings", 32);
      c.put("attention_bias", true);
      c.put("mlp_bias", true);
    }
    return c;
  }

  static final long[][] IDS = {{3, 17, 5, 40, 2, 9, 33}, {11, 0, 47, 8, 8, 0, 0}};
  static final long[][] MASK = {{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0, 0}};

  static Map<String, Tensor> inputs() {
    int b = IDS.length;
    int s = IDS[0].length;
    long[] ids = new long[b * s];
    long[] mask = new long[b * s];
    for (int i = 0; i < b; i++) {
      System.arraycopy(IDS[i], 0, ids, i * s, s);
      System.arraycopy(MASK[i], 0, mask, i * s, s);
    }
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put("input_ids", Tensor.ofLongs("input_ids", new long[] {b, s}, ids));
    in.put("attention_mask", Tensor.ofLongs("attention_mask", new long[] {b, s}, mask));
    return in;
  }

  /** Max |graph - reference| over all logits (measured values in the cases' comments). */
  static double maxDiff(Tensor logits, DecoderReference ref, int vocab) {
    float[] got = logits.toFloatArray();
    int s = IDS[0].length;
    assertThat(logits.shape()).containsExactly(IDS.length, s, vocab);
    double m = 0;
    for (int b = 0; b < IDS.length; b++) {
      double[][] want = ref.forward(IDS[b], MASK[b]);
      for (int t = 0; t < s; t++) {
        for (int v = 0; v < vocab; v++) {
          m = Math.max(m, Math.abs(got[(b * s + t) * vocab + v] - want[t][v]));
        }
      }
    }
    return m;
  }

  @ParameterizedTest(name = "{0} {1} on {2}")
  @CsvSource({
    "llama, F32, onnxruntime, 1e-4",
    "llama, F32, djl, 1e-4",
    "mistral, F32, onnxruntime, 1e-4",
    "mistral, F32, djl, 1e-4",
    "qwen2, F32, onnxruntime, 1e-4",
    "qwen2, F32, djl, 1e-4",
    "gpt2, F32, onnxruntime, 1e-4",
    "gpt2, F32, djl, 1e-4",
    // bf16 weights, run widened to f32 (exact), so the same bound holds for Llama (measured
    // 1.1e-6 ORT, 8.9e-7 DJL); GPT-2's GELU constants stay rounded to bf16 (measured 2.7e-3).
    "llama, BF16, onnxruntime, 1e-4",
    "llama, BF16, djl, 1e-4",
    "gpt2, BF16, djl, 5e-3",
    // f16 computed in f16: rounding of every activation (measured ORT 2.4e-3 Llama, 5.2e-3 GPT-2;
    // DJL 5.2e-3 Llama, 1.1e-2 GPT-2).
    "llama, F16, onnxruntime, 2e-2",
    "gpt2, F16, onnxruntime, 2e-2",
    "llama, F16, djl, 2e-2",
    "gpt2, F16, djl, 2e-2",
  })
  void forwardMatchesTheReference(String variant, String dtype, String engine, double bound)
      throws Exception {
    DataType t = DataType.fromSafetensors(dtype).orElseThrow();
    Path folder = dir.resolve(variant);
    SyntheticCheckpoint.write(folder, config(variant).toString(), t, 42, 1);
    HfCheckpoint ck = HfFolderReader.read(folder);
    ModelGraph g = DecoderGraph.build(ck);
    if (t == DataType.BFLOAT16) {
      g = FloatPrecision.widened(g);
    }
    DecoderReference ref = new DecoderReference(ck);
    try (Executor x = ExecutorFactory.of(engine).create(g, Device.CPU)) {
      Tensor logits = x.forward(inputs()).get("logits");
      double d = maxDiff(logits, ref, ck.config().vocabSize());
      System.out.printf(
          "[decoder-forward] %-8s %-4s %-11s max|graph - reference| = %.3g%n",
          variant, dtype, engine, d);
      assertThat(d).isLessThanOrEqualTo(bound);
    }
  }
}
