package dev.compress.api.io.hf;

import java.util.List;
import java.util.Optional;

/**
 * The decoder architectures a Hugging Face folder may declare in {@code config.json}'s {@code
 * architectures}, grouped by the graph that computes them.
 */
public enum HfArchitecture {
  /**
   * Llama and the models that share its block: RMSNorm, rotary embeddings, grouped-query attention,
   * SwiGLU MLP, tied or untied {@code lm_head}. Mistral adds a sliding attention window; Qwen2 adds
   * biases on the q/k/v projections.
   */
  LLAMA(List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM")),
  /**
   * GPT-2: LayerNorm, learned positions, Conv1D weights stored {@code [in, out]}, a fused {@code
   * c_attn}, tanh-approximated GELU, {@code lm_head} tied to {@code wte}.
   */
  GPT2(List.of("GPT2LMHeadModel"));

  private final List<String> names;

  HfArchitecture(List<String> names) {
    this.names = names;
  }

  /** The {@code architectures} entries this graph computes. */
  public List<String> names() {
    return names;
  }

  /** The family of {@code architecture}, if supported. */
  public static Optional<HfArchitecture> of(String architecture) {
    for (HfArchitecture a : values()) {
      if (a.names.contains(architecture)) {
        return Optional.of(a);
      }
    }
    return Optional.empty();
  }

  /** Every supported {@code architectures} entry. */
  public static List<String> supported() {
    return java.util.Arrays.stream(values()).flatMap(a -> a.names.stream()).toList();
  }
}
