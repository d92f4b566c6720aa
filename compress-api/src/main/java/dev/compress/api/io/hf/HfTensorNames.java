package dev.compress.api.io.hf;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The tensors a checkpoint of each architecture must hold, with their shapes, under the names
 * Transformers saves ({@code model.layers.3.self_attn.q_proj.weight}, {@code
 * transformer.h.0.attn.c_attn.weight}); the graph's linear layers carry the same module paths.
 */
final class HfTensorNames {
  private HfTensorNames() {}

  /**
   * GPT-2 buffers some checkpoints carry (the causal mask of old Transformers versions): read, kept
   * for write-back, not computed with.
   */
  static boolean isIgnoredBuffer(HfArchitecture arch, String name) {
    return arch == HfArchitecture.GPT2
        && (name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias"));
  }

  /**
   * The prefix of GPT-2 module names: {@code transformer.} as {@code GPT2LMHeadModel} saves them,
   * or none as the original {@code gpt2} checkpoints have them.
   */
  static String gpt2Prefix(Set<String> names) {
    return names.contains("wte.weight") && !names.contains("transformer.wte.weight")
        ? ""
        : "transformer.";
  }

  /** Required tensor name to shape, in module order. {@code lm_head.weight} only when untied. */
  static Map<String, long[]> expected(HfConfig c, Set<String> present) {
    Map<String, long[]> m = new LinkedHashMap<>();
    long h = c.hiddenSize();
    long v = c.vocabSize();
    long inter = c.intermediateSize();
    if (c.architecture() == HfArchitecture.LLAMA) {
      long q = (long) c.heads() * c.headDim();
      long kv = (long) c.kvHeads() * c.headDim();
      m.put("model.embed_tokens.weight", new long[] {v, h});
      for (int i = 0; i < c.layers(); i++) {
        String p = "model.layers." + i + ".";
        m.put(p + "input_layernorm.weight", new long[] {h});
        linear(m, p + "self_attn.q_proj", q, h, c.qkvBias());
        linear(m, p + "self_attn.k_proj", kv, h, c.qkvBias());
        linear(m, p + "self_attn.v_proj", kv, h, c.qkvBias());
        linear(m, p + "self_attn.o_proj", h, q, c.outputBias());
        m.put(p + "post_attention_layernorm.weight", new long[] {h});
        linear(m, p + "mlp.gate_proj", inter, h, c.mlpBias());
        linear(m, p + "mlp.up_proj", inter, h, c.mlpBias());
        linear(m, p + "mlp.down_proj", h, inter, c.mlpBias());
      }
      m.put("model.norm.weight", new long[] {h});
    } else {
      String t = gpt2Prefix(present);
      m.put(t + "wte.weight", new long[] {v, h});
      m.put(t + "wpe.weight", new long[] {c.maxPositions(), h});
      for (int i = 0; i < c.layers(); i++) {
        String p = t + "h." + i + ".";
        norm(m, p + "ln_1", h);
        conv1d(m, p + "attn.c_attn", h, 3 * h);
        conv1d(m, p + "attn.c_proj", h, h);
        norm(m, p + "ln_2", h);
        conv1d(m, p + "mlp.c_fc", h, inter);
        conv1d(m, p + "mlp.c_proj", inter, h);
      }
      norm(m, t + "ln_f", h);
    }
    if (!c.tieWordEmbeddings()) {
      m.put("lm_head.weight", new long[] {v, h});
    }
    return m;
  }

  /** A {@code torch.nn.Linear}: weight {@code [out, in]}. */
  private static void linear(Map<String, long[]> m, String p, long out, long in, boolean bias) {
    m.put(p + ".weight", new long[] {out, in});
    if (bias) {
      m.put(p + ".bias", new long[] {out});
    }
  }

  /** GPT-2's {@code Conv1D}: weight {@code [in, out]}, always a bias. */
  private static void conv1d(Map<String, long[]> m, String p, long in, long out) {
    m.put(p + ".weight", new long[] {in, out});
    m.put(p + ".bias", new long[] {out});
  }

  private static void norm(Map<String, long[]> m, String p, long h) {
    m.put(p + ".weight", new long[] {h});
    m.put(p + ".bias", new long[] {h});
  }
}
