package dev.compress.api.io.hf;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import java.util.List;

/**
 * Builds the ONNX-semantics graph of a decoder checkpoint ({@link HfArchitecture#LLAMA} or {@link
 * HfArchitecture#GPT2}): inputs {@code input_ids} and {@code attention_mask} (int64 {@code [batch,
 * sequence]}), output {@code logits} {@code [batch, sequence, vocab]}, opset 17.
 *
 * <p>Every projection is a {@code Gemm} named by its module path ({@code
 * model.layers.3.self_attn.q_proj}, {@code transformer.h.0.mlp.c_fc}) over the token rows {@code
 * [batch x sequence, hidden]}, reading the checkpoint's tensor as it is stored: {@code [out, in]}
 * with {@code transB=1} for {@code nn.Linear}, {@code [in, out]} for GPT-2's {@code Conv1D}. So the
 * weights stay the memory-mapped tensors, in their own dtype, and every pass sees ordinary linear
 * layers. GPT-2's fused {@code c_attn} is split into three layers {@code attn.c_attn.q}, {@code
 * .k}, {@code .v} (copies of its column blocks; the writer joins them back).
 *
 * <p>Activations are computed in the weights' dtype; attention scores are masked and soft-maxed in
 * f32 (as Transformers upcasts them), and rotary tables are computed in f32 and then rounded. The
 * causal mask (and Mistral's sliding window) and the padding mask from {@code attention_mask} are
 * built inside the graph; positions are {@code 0 .. sequence-1}, as in Transformers' forward
 * without {@code position_ids}. Masked scores are set to the lowest finite f32, so a fully padded
 * row gives a uniform distribution rather than NaN.
 */
public final class DecoderGraph {
  /** The default-domain opset of the graphs. */
  public static final long OPSET = 17;

  /** Graph input: token ids. */
  public static final String INPUT_IDS = "input_ids";

  /** Graph input: 1 for real tokens, 0 for padding. */
  public static final String ATTENTION_MASK = "attention_mask";

  /** Graph output. */
  public static final String LOGITS = "logits";

  /** Metadata key holding the model length ({@code max_position_embeddings}). */
  public static final String MODEL_LENGTH_KEY = "hf.max_position_embeddings";

  /** Metadata key holding the architecture name. */
  public static final String ARCHITECTURE_KEY = "hf.architecture";

  private DecoderGraph() {}

  /** The graph of {@code checkpoint}; its initializers are the checkpoint's own tensors. */
  public static ModelGraph build(HfCheckpoint checkpoint) {
    HfConfig c = checkpoint.config();
    GraphBuilder b =
        GraphBuilder.create(c.architectureName()).opset("", OPSET).producer("compress-hf");
    GraphEmitter e = new GraphEmitter(b, checkpoint.dtype());
    b.input(INPUT_IDS, DataType.INT64, "batch", "sequence");
    b.input(ATTENTION_MASK, DataType.INT64, "batch", "sequence");
    Prelude p = prelude(e, c);
    String logits2d =
        c.architecture() == HfArchitecture.LLAMA
            ? LlamaLayers.emit(e, checkpoint, p)
            : Gpt2Layers.emit(e, checkpoint, p);
    String shape =
        e.op(
            "logits/shape",
            "Concat",
            List.of(p.batchSeq, e.ints("logits/vocab", c.vocabSize())),
            Attribute.of("axis", 0L));
    String logits = b.rename(e.op("logits/reshape", "Reshape", List.of(logits2d, shape)), LOGITS);
    b.output(logits, checkpoint.dtype(), "batch", "sequence", (long) c.vocabSize());
    ModelGraph model = b.build();
    model.metadata().put(ARCHITECTURE_KEY, c.architectureName());
    model.metadata().put(MODEL_LENGTH_KEY, Integer.toString(c.maxPositions()));
    return model;
  }

  /**
   * Values every block reads.
   *
   * @param batchSeq int64 {@code [2]}: batch and sequence
   * @param positions int64 {@code [sequence]}: 0 .. sequence-1
   * @param allowed bool, broadcastable to the scores: causal (and window) and padding mask; {@code
   *     [batch, 1, 1, seq, seq]} for the Llama family (grouped heads), {@code [batch, 1, seq, seq]}
   *     for GPT-2
   */
  record Prelude(String batchSeq, String positions, String allowed) {}

  private static Prelude prelude(GraphEmitter e, HfConfig c) {
    String bs = e.op("shape/input_ids", "Shape", List.of(INPUT_IDS));
    String seq =
        e.op(
            "shape/sequence",
            "Gather",
            List.of(bs, e.scalarInt("shape/one", 1)),
            Attribute.of("axis", 0L));
    String pos =
        e.op(
            "positions",
            "Range",
            List.of(e.scalarInt("positions/start", 0), seq, e.scalarInt("positions/delta", 1)));
    String rows = e.op("mask/query", "Unsqueeze", List.of(pos, e.ints("mask/axes_q", 1)));
    String cols = e.op("mask/key", "Unsqueeze", List.of(pos, e.ints("mask/axes_k", 0)));
    String causal = e.op("mask/causal", "LessOrEqual", List.of(cols, rows)); // [s, s]: key <= query
    if (c.slidingWindow() > 0) {
      // Mistral: query i sees keys j with i - j < window.
      String dist = e.op("mask/distance", "Sub", List.of(rows, cols));
      String near =
          e.op(
              "mask/window",
              "Less",
              List.of(dist, e.scalarInt("mask/window_size", c.slidingWindow())));
      causal = e.op("mask/causal_window", "And", List.of(causal, near));
    }
    boolean grouped = c.architecture() == HfArchitecture.LLAMA;
    String pad =
        e.op(
            "mask/padding_bool",
            "Cast",
            List.of(ATTENTION_MASK),
            Attribute.of("to", (long) DataType.BOOL.onnxCode()));
    String padAxes = grouped ? e.ints("mask/axes_pad", 1, 2, 3) : e.ints("mask/axes_pad", 1, 2);
    String padB = e.op("mask/padding", "Unsqueeze", List.of(pad, padAxes));
    String allowed = e.op("mask/allowed", "And", List.of(causal, padB));
    return new Prelude(bs, pos, allowed);
  }

  /**
   * Scaled, masked softmax over the last axis of the raw scores {@code qk}, in f32 ({@code scale}
   * an f32 scalar); returns probabilities in the compute dtype.
   */
  static String maskedSoftmax(GraphEmitter e, String p, String qk, String scale, String allowed) {
    boolean cast = e.dtype != DataType.FLOAT;
    String qk32 =
        cast
            ? e.op(
                p + "qk_f32",
                "Cast",
                List.of(qk),
                Attribute.of("to", (long) DataType.FLOAT.onnxCode()))
            : qk;
    String s32 = e.op(p + "scores", "Mul", List.of(qk32, scale));
    String low =
        e.init(
            dev.compress.api.tensor.Tensor.ofFloats(
                p + "masked_value", new long[0], -Float.MAX_VALUE));
    String masked = e.op(p + "masked_scores", "Where", List.of(allowed, s32, low));
    String probs = e.op(p + "softmax", "Softmax", List.of(masked), Attribute.of("axis", -1L));
    return cast
        ? e.op(p + "probs", "Cast", List.of(probs), Attribute.of("to", (long) e.dtype.onnxCode()))
        : probs;
  }

  /** A projection over the token rows: {@code Gemm(x, W[, b])}, named {@code module}. */
  static String linear(
      GraphEmitter e, String module, String x, String weight, String bias, boolean transB) {
    List<String> in = bias == null ? List.of(x, weight) : List.of(x, weight, bias);
    return e.op(module, "Gemm", in, Attribute.of("transB", transB ? 1L : 0L));
  }
}
