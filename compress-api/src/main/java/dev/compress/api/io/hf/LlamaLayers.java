package dev.compress.api.io.hf;

import dev.compress.api.graph.Attribute;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.List;

/**
 * The Llama-family blocks (Touvron et al. 2023, "LLaMA"; Mistral; Qwen2): pre-norm RMSNorm (Zhang
 * and Sennrich 2019), rotary embeddings in Transformers' rotate-half convention (Su et al. 2021),
 * grouped-query attention (Ainslie et al. 2023), SwiGLU MLP (Shazeer 2020).
 *
 * <p>Grouped heads are not repeated: queries are viewed {@code [batch, kvHeads, group, seq,
 * headDim]} and keys/values {@code [batch, kvHeads, 1, seq, headDim]}, and MatMul broadcasts; query
 * head {@code h} reads key/value head {@code h / group}, as Transformers' {@code repeat_kv}.
 */
final class LlamaLayers {
  private LlamaLayers() {}

  /** Emits embedding, blocks, final norm and head; returns the logits rows {@code [N, vocab]}. */
  static String emit(GraphEmitter e, HfCheckpoint ck, DecoderGraph.Prelude p) {
    HfConfig c = ck.config();
    String embed = e.init(ck.tensor("model.embed_tokens.weight"));
    String tokens = e.op("model.embed_tokens", "Gather", List.of(embed, DecoderGraph.INPUT_IDS));
    String x =
        e.op(
            "model.embed_tokens/rows",
            "Reshape",
            List.of(tokens, e.ints("shape/rows", -1, c.hiddenSize())));

    // Rotary tables [seq, headDim] in f32, rounded to the compute dtype as Transformers does.
    float[] inv = c.rope().inverseFrequencies(c.ropeTheta(), c.headDim());
    String invF = e.init(Tensor.ofFloats("rotary.inv_freq", new long[] {1, inv.length}, inv));
    String posF =
        e.op(
            "rotary/positions",
            "Cast",
            List.of(p.positions()),
            Attribute.of("to", (long) DataType.FLOAT.onnxCode()));
    String posCol =
        e.op("rotary/positions_col", "Unsqueeze", List.of(posF, e.ints("rotary/axes", 1)));
    String freqs = e.op("rotary/freqs", "Mul", List.of(posCol, invF));
    String emb = e.op("rotary/emb", "Concat", List.of(freqs, freqs), Attribute.of("axis", -1L));
    String cos = e.op("rotary/cos", "Cos", List.of(emb));
    String sin = e.op("rotary/sin", "Sin", List.of(emb));
    if (e.dtype != DataType.FLOAT) {
      Attribute to = Attribute.of("to", (long) e.dtype.onnxCode());
      cos = e.op("rotary/cos_cast", "Cast", List.of(cos), to);
      sin = e.op("rotary/sin_cast", "Cast", List.of(sin), to);
    }
    Rotary rot = new Rotary(cos, sin, e.ints("rotary/halves", c.headDim() / 2, c.headDim() / 2));

    String qShape =
        e.op(
            "shape/q",
            "Concat",
            List.of(p.batchSeq(), e.ints("shape/q_heads", c.kvHeads(), c.groupSize(), c.headDim())),
            Attribute.of("axis", 0L));
    String kvShape =
        e.op(
            "shape/kv",
            "Concat",
            List.of(p.batchSeq(), e.ints("shape/kv_heads", c.kvHeads(), 1, c.headDim())),
            Attribute.of("axis", 0L));
    String ctxRows = e.ints("shape/ctx_rows", -1, (long) c.heads() * c.headDim());
    String scale =
        e.init(
            Tensor.ofFloats("attention.scale", new long[0], (float) (1 / Math.sqrt(c.headDim()))));
    Shapes s = new Shapes(qShape, kvShape, ctxRows, scale, rot);
    for (int i = 0; i < c.layers(); i++) {
      x = block(e, ck, "model.layers." + i + ".", x, p, s);
    }
    String h = norm(e, ck, "model.norm", x);
    String head = c.tieWordEmbeddings() ? embed : e.init(ck.tensor("lm_head.weight"));
    return DecoderGraph.linear(e, "lm_head", h, head, null, true);
  }

  private record Rotary(String cos, String sin, String halves) {}

  private record Shapes(String q, String kv, String ctxRows, String scale, Rotary rot) {}

  private static String block(
      GraphEmitter e, HfCheckpoint ck, String p, String x, DecoderGraph.Prelude pre, Shapes s) {
    HfConfig c = ck.config();
    String a = p + "self_attn.";
    String h = norm(e, ck, p + "input_layernorm", x);
    String q = proj(e, ck, a + "q_proj", h, c.qkvBias());
    String k = proj(e, ck, a + "k_proj", h, c.qkvBias());
    String v = proj(e, ck, a + "v_proj", h, c.qkvBias());
    Attribute heads = Attribute.ofInts("perm", 0, 2, 3, 1, 4);
    // [N, H*D] -> [b, s, kv, g, D] -> [b, kv, g, s, D]
    String q5 =
        e.op(
            a + "q_heads",
            "Transpose",
            List.of(e.op(a + "q_view", "Reshape", List.of(q, s.q))),
            heads);
    String k5 =
        e.op(
            a + "k_heads",
            "Transpose",
            List.of(e.op(a + "k_view", "Reshape", List.of(k, s.kv))),
            heads);
    String v5 =
        e.op(
            a + "v_heads",
            "Transpose",
            List.of(e.op(a + "v_view", "Reshape", List.of(v, s.kv))),
            heads);
    String qr = rope(e, a + "rotary_q/", q5, s.rot);
    String kr = rope(e, a + "rotary_k/", k5, s.rot);
    String kt =
        e.op(a + "k_transposed", "Transpose", List.of(kr), Attribute.ofInts("perm", 0, 1, 2, 4, 3));
    String qk = e.op(a + "qk", "MatMul", List.of(qr, kt));
    String probs = DecoderGraph.maskedSoftmax(e, a, qk, s.scale, pre.allowed());
    String ctx = e.op(a + "context", "MatMul", List.of(probs, v5)); // [b, kv, g, s, D]
    String ctxT =
        e.op(a + "context_t", "Transpose", List.of(ctx), Attribute.ofInts("perm", 0, 3, 1, 2, 4));
    String rows = e.op(a + "context_rows", "Reshape", List.of(ctxT, s.ctxRows));
    String o = proj(e, ck, a + "o_proj", rows, c.outputBias());
    x = e.op(p + "residual_attn", "Add", List.of(x, o));

    String m = p + "mlp.";
    String h2 = norm(e, ck, p + "post_attention_layernorm", x);
    String gate = proj(e, ck, m + "gate_proj", h2, c.mlpBias());
    String up = proj(e, ck, m + "up_proj", h2, c.mlpBias());
    String act =
        e.op(
            m + "act_fn",
            "Mul",
            List.of(gate, e.op(m + "act_fn/sigmoid", "Sigmoid", List.of(gate))));
    String down =
        proj(e, ck, m + "down_proj", e.op(m + "gated", "Mul", List.of(act, up)), c.mlpBias());
    return e.op(p + "residual_mlp", "Add", List.of(x, down));
  }

  /** {@code x * cos + rotate_half(x) * sin}, rotate_half(x) = cat(-x2, x1). */
  private static String rope(GraphEmitter e, String p, String x, Rotary r) {
    String[] halves =
        e.ops(p + "split", "Split", List.of(x, r.halves()), 2, Attribute.of("axis", -1L));
    String neg = e.op(p + "neg", "Neg", List.of(halves[1]));
    String rot =
        e.op(p + "rotate_half", "Concat", List.of(neg, halves[0]), Attribute.of("axis", -1L));
    return e.op(
        p + "add",
        "Add",
        List.of(
            e.op(p + "cos", "Mul", List.of(x, r.cos())),
            e.op(p + "sin", "Mul", List.of(rot, r.sin()))));
  }

  private static String norm(GraphEmitter e, HfCheckpoint ck, String module, String x) {
    String w = e.init(ck.tensor(module + ".weight"));
    return e.op(
        module,
        "SimplifiedLayerNormalization",
        List.of(x, w),
        Attribute.of("axis", -1L),
        Attribute.of("epsilon", (float) ck.config().normEps()));
  }

  private static String proj(
      GraphEmitter e, HfCheckpoint ck, String module, String x, boolean bias) {
    String w = e.init(ck.tensor(module + ".weight"));
    String b = bias ? e.init(ck.tensor(module + ".bias")) : null;
    return DecoderGraph.linear(e, module, x, w, b, true);
  }
}
