package dev.compress.api.io.hf;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.tensor.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A decoder's {@code config.json}, read and checked before any weight is touched: the architecture,
 * the sizes the graph is built from, and the raw document (written back, updated, with the model).
 *
 * <p>Defaults are Transformers' own for the keys a config may omit ({@code num_key_value_heads} =
 * heads, {@code head_dim} = hidden / heads, {@code rope_theta} 10000, {@code tie_word_embeddings}
 * false for Llama and Qwen2 and true for GPT-2, GPT-2's {@code n_inner} = 4 x {@code n_embd}).
 *
 * @param file the config.json read
 * @param architecture the graph family
 * @param architectureName the {@code architectures[0]} entry, e.g. {@code MistralForCausalLM}
 * @param vocabSize vocabulary size
 * @param hiddenSize model width
 * @param intermediateSize MLP width
 * @param layers number of blocks
 * @param heads attention heads
 * @param kvHeads key/value heads (grouped-query attention when fewer than {@code heads})
 * @param headDim width of one head
 * @param maxPositions {@code max_position_embeddings} / {@code n_positions}: the model length
 * @param normEps {@code rms_norm_eps} / {@code layer_norm_epsilon}
 * @param ropeTheta rotary base (Llama family; 0 for GPT-2)
 * @param rope rotary frequency scaling (Llama family)
 * @param tieWordEmbeddings whether {@code lm_head} reuses the token embedding
 * @param qkvBias biases on q/k/v (Qwen2; Llama's {@code attention_bias})
 * @param outputBias bias on the attention output projection (Llama's {@code attention_bias})
 * @param mlpBias biases on the MLP projections (Llama's {@code mlp_bias})
 * @param slidingWindow Mistral's attention window in tokens; 0 for none
 * @param dtype {@code torch_dtype}, if the config names one ({@code null} otherwise)
 * @param json the whole document as JSON text (what {@code config.json} holds, keys this record
 *     does not interpret included)
 */
public record HfConfig(
    Path file,
    HfArchitecture architecture,
    String architectureName,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int layers,
    int heads,
    int kvHeads,
    int headDim,
    int maxPositions,
    double normEps,
    double ropeTheta,
    RopeScaling rope,
    boolean tieWordEmbeddings,
    boolean qkvBias,
    boolean outputBias,
    boolean mlpBias,
    int slidingWindow,
    DataType dtype,
    String json) {

  static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /** The document as a tree, a fresh copy each call (for writers that change a key). */
  ObjectNode tree() {
    try {
      return (ObjectNode) JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("config text no longer parses: " + e.getMessage(), e);
    }
  }

  /** The number of query heads sharing one key/value head. */
  public int groupSize() {
    return heads / kvHeads;
  }

  /**
   * Reads and checks {@code file}.
   *
   * @throws UnsupportedModelException naming the file and key for an architecture, activation or
   *     rope scaling this toolkit does not compute
   * @throws CorruptCheckpointException naming the file and key for malformed JSON, a missing key, a
   *     value of the wrong type or inconsistent sizes
   */
  public static HfConfig read(Path file)
      throws IOException, UnsupportedModelException, CorruptCheckpointException {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(file));
    } catch (JsonProcessingException e) {
      throw new CorruptCheckpointException(
          file, -1, "not valid JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
    }
    if (!(root instanceof ObjectNode obj)) {
      throw new CorruptCheckpointException(file, -1, "must hold a JSON object");
    }
    return parse(file, obj);
  }

  static HfConfig parse(Path file, ObjectNode c)
      throws UnsupportedModelException, CorruptCheckpointException {
    Keys k = new Keys(file, c);
    JsonNode archs = c.get("architectures");
    if (archs == null || !archs.isArray() || archs.isEmpty() || !archs.get(0).isTextual()) {
      throw new UnsupportedModelException(
          file
              + ": key 'architectures' must list the model class, one of "
              + HfArchitecture.supported()
              + (archs == null ? " (missing)" : ", found " + archs));
    }
    String name = archs.get(0).asText();
    HfArchitecture arch =
        HfArchitecture.of(name)
            .orElseThrow(
                () ->
                    new UnsupportedModelException(
                        file
                            + ": architectures[0] '"
                            + name
                            + "' is not supported; supported: "
                            + HfArchitecture.supported()));
    DataType dtype = k.dtype();
    return arch == HfArchitecture.GPT2 ? gpt2(k, name, dtype) : llama(k, name, dtype);
  }

  private static HfConfig llama(Keys k, String name, DataType dtype)
      throws UnsupportedModelException, CorruptCheckpointException {
    String act = k.string("hidden_act", "silu");
    if (!act.equals("silu")) {
      throw new UnsupportedModelException(
          k.file + ": hidden_act '" + act + "' is not supported for " + name + " (only silu)");
    }
    int hidden = k.positive("hidden_size");
    int heads = k.positive("num_attention_heads");
    int kv = k.positiveOr("num_key_value_heads", heads);
    if (heads % kv != 0) {
      throw k.corrupt(
          "num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kv);
    }
    int headDim;
    if (k.has("head_dim")) {
      headDim = k.positive("head_dim");
    } else {
      if (hidden % heads != 0) {
        throw k.corrupt(
            "hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
      }
      headDim = hidden / heads;
    }
    if (headDim % 2 != 0) {
      throw k.corrupt("head_dim " + headDim + " must be even for rotary embeddings");
    }
    boolean qwen = name.equals("Qwen2ForCausalLM");
    boolean attnBias = k.bool("attention_bias", false);
    int window = 0;
    if (name.equals("MistralForCausalLM") || (qwen && k.bool("use_sliding_window", false))) {
      window = k.positiveOr("sliding_window", 0);
    }
    return new HfConfig(
        k.file,
        HfArchitecture.LLAMA,
        name,
        k.positive("vocab_size"),
        hidden,
        k.positive("intermediate_size"),
        k.positive("num_hidden_layers"),
        heads,
        kv,
        headDim,
        k.positive("max_position_embeddings"),
        k.positiveDouble("rms_norm_eps", 1e-6),
        k.positiveDouble("rope_theta", 10000),
        k.rope(),
        k.bool("tie_word_embeddings", false),
        qwen || attnBias,
        attnBias,
        k.bool("mlp_bias", false),
        window,
        dtype,
        k.c.toString());
  }

  private static HfConfig gpt2(Keys k, String name, DataType dtype)
      throws UnsupportedModelException, CorruptCheckpointException {
    String act = k.string("activation_function", "gelu_new");
    if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
      throw new UnsupportedModelException(
          k.file
              + ": activation_function '"
              + act
              + "' is not supported for "
              + name
              + " (gelu_new, gelu_pytorch_tanh)");
    }
    for (String flag :
        new String[] {"scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn"}) {
      if (k.bool(flag, false)) {
        throw new UnsupportedModelException(k.file + ": " + flag + " true is not supported");
      }
    }
    if (!k.bool("scale_attn_weights", true)) {
      throw new UnsupportedModelException(k.file + ": scale_attn_weights false is not supported");
    }
    int hidden = k.positive("n_embd");
    int heads = k.positive("n_head");
    if (hidden % heads != 0) {
      throw k.corrupt("n_embd " + hidden + " is not a multiple of n_head " + heads);
    }
    return new HfConfig(
        k.file,
        HfArchitecture.GPT2,
        name,
        k.positive("vocab_size"),
        hidden,
        k.positiveOr("n_inner", 4 * hidden),
        k.positive("n_layer"),
        heads,
        heads,
        hidden / heads,
        k.positive("n_positions"),
        k.positiveDouble("layer_norm_epsilon", 1e-5),
        0,
        RopeScaling.NONE,
        k.bool("tie_word_embeddings", true),
        true,
        true,
        true,
        0,
        dtype,
        k.c.toString());
  }

  /** Typed access to the keys, each failure one line naming the file and key. */
  private record Keys(Path file, ObjectNode c) {
    boolean has(String key) {
      JsonNode v = c.get(key);
      return v != null && !v.isNull();
    }

    CorruptCheckpointException corrupt(String detail) {
      return new CorruptCheckpointException(file, -1, detail);
    }

    int positive(String key) throws CorruptCheckpointException {
      if (!has(key)) {
        throw corrupt("missing key '" + key + "'");
      }
      return positiveOr(key, 0);
    }

    int positiveOr(String key, int dflt) throws CorruptCheckpointException {
      if (!has(key)) {
        return dflt;
      }
      JsonNode v = c.get(key);
      if (!v.canConvertToInt() || !v.isIntegralNumber() || v.intValue() <= 0) {
        throw corrupt("key '" + key + "' must be a positive integer, found " + v);
      }
      return v.intValue();
    }

    double positiveDouble(String key, double dflt) throws CorruptCheckpointException {
      if (!has(key)) {
        return dflt;
      }
      JsonNode v = c.get(key);
      if (!v.isNumber() || !(v.doubleValue() > 0) || Double.isInfinite(v.doubleValue())) {
        throw corrupt("key '" + key + "' must be a positive number, found " + v);
      }
      return v.doubleValue();
    }

    boolean bool(String key, boolean dflt) throws CorruptCheckpointException {
      if (!has(key)) {
        return dflt;
      }
      JsonNode v = c.get(key);
      if (!v.isBoolean()) {
        throw corrupt("key '" + key + "' must be true or false, found " + v);
      }
      return v.booleanValue();
    }

    String string(String key, String dflt) throws CorruptCheckpointException {
      if (!has(key)) {
        return dflt;
      }
      JsonNode v = c.get(key);
      if (!v.isTextual()) {
        throw corrupt("key '" + key + "' must be a string, found " + v);
      }
      return v.asText();
    }

    /** {@code torch_dtype} (or Transformers 4.56's {@code dtype}), if given. */
    DataType dtype() throws CorruptCheckpointException {
      String key = has("torch_dtype") ? "torch_dtype" : "dtype";
      if (!has(key)) {
        return null;
      }
      String d = string(key, "");
      return switch (d) {
        case "float32" -> DataType.FLOAT;
        case "float16" -> DataType.FLOAT16;
        case "bfloat16" -> DataType.BFLOAT16;
        default ->
            throw corrupt(
                "key '" + key + "' must be float32, float16 or bfloat16, found '" + d + "'");
      };
    }

    RopeScaling rope() throws UnsupportedModelException, CorruptCheckpointException {
      if (!has("rope_scaling")) {
        return RopeScaling.NONE;
      }
      JsonNode r = c.get("rope_scaling");
      if (!r.isObject()) {
        throw corrupt("key 'rope_scaling' must be an object or null, found " + r);
      }
      JsonNode t = r.has("rope_type") ? r.get("rope_type") : r.get("type");
      String type = t == null ? "default" : t.asText().toLowerCase(Locale.ROOT);
      String where = "rope_scaling." + (r.has("rope_type") ? "rope_type" : "type");
      switch (type) {
        case "default":
          return RopeScaling.NONE;
        case "linear":
          return new RopeScaling("linear", number(r, "factor"), 0, 0, 0);
        case "llama3":
          double low = number(r, "low_freq_factor");
          double high = number(r, "high_freq_factor");
          if (!(high > low)) {
            throw corrupt(
                "rope_scaling.high_freq_factor "
                    + high
                    + " must exceed rope_scaling.low_freq_factor "
                    + low);
          }
          return new RopeScaling(
              "llama3",
              number(r, "factor"),
              low,
              high,
              (long) number(r, "original_max_position_embeddings"));
        default:
          throw new UnsupportedModelException(
              file + ": " + where + " '" + type + "' is not supported (default, linear, llama3)");
      }
    }

    private double number(JsonNode r, String key) throws CorruptCheckpointException {
      JsonNode v = r.get(key);
      if (v == null || !v.isNumber() || !(v.doubleValue() > 0)) {
        throw corrupt("key 'rope_scaling." + key + "' must be a positive number, found " + v);
      }
      return v.doubleValue();
    }
  }
}
