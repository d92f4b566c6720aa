package dev.compress.api.io.hf;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** config.json documents of tiny decoders for the format tests. */
public final class TinyConfigs {
  private TinyConfigs() {}

  /** A Llama with grouped-query attention (4 heads, 2 kv heads), untied head. */
  public static ObjectNode llama() {
    ObjectNode c = HfConfig.JSON.createObjectNode();
    c.putArray("architectures").add("LlamaForCausalLM");
    c.put("model_type", "llama");
    c.put("vocab_size", 48);
    c.put("hidden_size", 32);
    c.put("intermediate_size", 40);
    c.put("num_hidden_layers", 2);
    c.put("num_attention_heads", 4);
    c.put("num_key_value_heads", 2);
    c.put("max_position_embeddings", 64);
    c.put("rms_norm_eps", 1e-5);
    c.put("rope_theta", 10000.0);
    c.put("hidden_act", "silu");
    c.put("tie_word_embeddings", false);
    c.put("torch_dtype", "float32");
    return c;
  }

  /** A GPT-2 (2 layers, 4 heads), tied head. */
  public static ObjectNode gpt2() {
    ObjectNode c = HfConfig.JSON.createObjectNode();
    c.putArray("architectures").add("GPT2LMHeadModel");
    c.put("model_type", "gpt2");
    c.put("vocab_size", 48);
    c.put("n_embd", 32);
    c.put("n_layer", 2);
    c.put("n_head", 4);
    c.put("n_positions", 64);
    c.put("layer_norm_epsilon", 1e-5);
    c.put("activation_function", "gelu_new");
    c.put("torch_dtype", "float32");
    return c;
  }
}
