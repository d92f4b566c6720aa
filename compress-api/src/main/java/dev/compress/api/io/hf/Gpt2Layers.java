package dev.compress.api.io.hf;

import dev.compress.api.graph.Attribute;
import dev.compress.api.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The GPT-2 blocks (Radford et al. 2019): learned positions, pre-norm LayerNorm, {@code Conv1D}
 * projections stored {@code [in, out]}, multi-head attention from the fused {@code c_attn} split
 * into three layers, tanh-approximated GELU ({@code gelu_new}), {@code lm_head} tied to {@code
 * wte}.
 */
final class Gpt2Layers {
  /** Suffixes of the three layers {@code c_attn} is split into. */
  static final List<String> QKV = List.of("q", "k", "v");

  private Gpt2Layers() {}

  /** Emits embedding, blocks, final norm and head; returns the logits rows {@code [N, vocab]}. */
  static String emit(GraphEmitter e, HfCheckpoint ck, DecoderGraph.Prelude p) {
    HfConfig c = ck.config();
    String t = HfTensorNames.gpt2Prefix(ck.tensors().keySet());
    String wte = e.init(ck.tensor(t + "wte.weight"));
    String wpe = e.init(ck.tensor(t + "wpe.weight"));
    String tokens = e.op(t + "wte", "Gather", List.of(wte, DecoderGraph.INPUT_IDS));
    String positions = e.op(t + "wpe", "Gather", List.of(wpe, p.positions()));
    String sum = e.op(t + "embeddings", "Add", List.of(tokens, positions));
    String x =
        e.op(
            t + "embeddings/rows",
            "Reshape",
            List.of(sum, e.ints("shape/rows", -1, c.hiddenSize())));
    String headShape =
        e.op(
            "shape/heads",
            "Concat",
            List.of(p.batchSeq(), e.ints("shape/head_dims", c.heads(), c.headDim())),
            Attribute.of("axis", 0L));
    String rowsShape = e.ints("shape/ctx_rows", -1, c.hiddenSize());
    String scale =
        e.init(
            Tensor.ofFloats("attention.scale", new long[0], (float) (1 / Math.sqrt(c.headDim()))));
    for (int i = 0; i < c.layers(); i++) {
      x = block(e, ck, t + "h." + i + ".", x, p, headShape, rowsShape, scale);
    }
    String h = norm(e, ck, t + "ln_f", x);
    String head = c.tieWordEmbeddings() ? wte : e.init(ck.tensor("lm_head.weight"));
    return DecoderGraph.linear(e, "lm_head", h, head, null, true);
  }

  private static String block(
      GraphEmitter e,
      HfCheckpoint ck,
      String p,
      String x,
      DecoderGraph.Prelude pre,
      String headShape,
      String rowsShape,
      String scale) {
    HfConfig c = ck.config();
    String a = p + "attn.";
    String h = norm(e, ck, p + "ln_1", x);
    Tensor w = ck.tensor(a + "c_attn.weight");
    Tensor b = ck.tensor(a + "c_attn.bias");
    String[] qkv = new String[3];
    for (int j = 0; j < 3; j++) {
      String module = a + "c_attn." + QKV.get(j);
      String wj = e.init(columns(w, module + ".weight", j * c.hiddenSize(), c.hiddenSize()));
      String bj = e.init(columns(b, module + ".bias", j * c.hiddenSize(), c.hiddenSize()));
      qkv[j] = DecoderGraph.linear(e, module, h, wj, bj, false);
    }
    String q =
        e.op(
            a + "q_heads",
            "Transpose",
            List.of(e.op(a + "q_view", "Reshape", List.of(qkv[0], headShape))),
            Attribute.ofInts("perm", 0, 2, 1, 3));
    String kt =
        e.op(
            a + "k_heads_t",
            "Transpose",
            List.of(e.op(a + "k_view", "Reshape", List.of(qkv[1], headShape))),
            Attribute.ofInts("perm", 0, 2, 3, 1));
    String v =
        e.op(
            a + "v_heads",
            "Transpose",
            List.of(e.op(a + "v_view", "Reshape", List.of(qkv[2], headShape))),
            Attribute.ofInts("perm", 0, 2, 1, 3));
    String qk = e.op(a + "qk", "MatMul", List.of(q, kt));
    String probs = DecoderGraph.maskedSoftmax(e, a, qk, scale, pre.allowed());
    String ctx = e.op(a + "context", "MatMul", List.of(probs, v)); // [b, heads, s, D]
    String ctxT =
        e.op(a + "context_t", "Transpose", List.of(ctx), Attribute.ofInts("perm", 0, 2, 1, 3));
    String rows = e.op(a + "context_rows", "Reshape", List.of(ctxT, rowsShape));
    String o = conv1d(e, ck, a + "c_proj", rows);
    x = e.op(p + "residual_attn", "Add", List.of(x, o));

    String m = p + "mlp.";
    String h2 = norm(e, ck, p + "ln_2", x);
    String fc = conv1d(e, ck, m + "c_fc", h2);
    String act = geluTanh(e, m + "act/", fc);
    String out = conv1d(e, ck, m + "c_proj", act);
    return e.op(p + "residual_mlp", "Add", List.of(x, out));
  }

  /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), Transformers' {@code NewGELUActivation}. */
  private static String geluTanh(GraphEmitter e, String p, String x) {
    String x3 = e.op(p + "cube", "Mul", List.of(e.op(p + "square", "Mul", List.of(x, x)), x));
    String inner =
        e.op(
            p + "inner",
            "Add",
            List.of(x, e.op(p + "cube_scaled", "Mul", List.of(x3, e.scalar(p + "c", 0.044715f)))));
    String th =
        e.op(
            p + "tanh",
            "Tanh",
            List.of(
                e.op(
                    p + "scaled",
                    "Mul",
                    List.of(
                        inner, e.scalar(p + "sqrt_2_over_pi", (float) Math.sqrt(2 / Math.PI))))));
    String onePlus = e.op(p + "one_plus", "Add", List.of(th, e.scalar(p + "one", 1f)));
    return e.op(
        p + "out",
        "Mul",
        List.of(e.op(p + "half_x", "Mul", List.of(x, e.scalar(p + "half", 0.5f))), onePlus));
  }

  private static String norm(GraphEmitter e, HfCheckpoint ck, String module, String x) {
    return e.op(
        module,
        "LayerNormalization",
        List.of(x, e.init(ck.tensor(module + ".weight")), e.init(ck.tensor(module + ".bias"))),
        Attribute.of("axis", -1L),
        Attribute.of("epsilon", (float) ck.config().normEps()));
  }

  private static String conv1d(GraphEmitter e, HfCheckpoint ck, String module, String x) {
    String w = e.init(ck.tensor(module + ".weight"));
    String b = e.init(ck.tensor(module + ".bias"));
    return DecoderGraph.linear(e, module, x, w, b, false);
  }

  /**
   * Columns {@code [from, from + width)} of the last axis of {@code t} (rank 1 or 2), copied in its
   * own dtype.
   */
  static Tensor columns(Tensor t, String name, long from, long width) {
    long cols = t.dim(t.rank() - 1);
    long rows = t.rank() == 1 ? 1 : t.dim(0);
    int es = t.dtype().bits() / 8;
    ByteBuffer src = t.data();
    ByteBuffer out = ByteBuffer.allocate((int) (rows * width * es)).order(ByteOrder.LITTLE_ENDIAN);
    for (long r = 0; r < rows; r++) {
      int at = (int) ((r * cols + from) * es);
      out.put(src.slice(at, (int) (width * es)));
    }
    long[] shape = t.rank() == 1 ? new long[] {width} : new long[] {rows, width};
    return Tensor.of(name, t.dtype(), shape, out.flip());
  }

  /** Joins same-row tensors along the last axis (the inverse of {@link #columns}). */
  static Tensor join(String name, List<Tensor> parts) {
    Tensor first = parts.get(0);
    long rows = first.rank() == 1 ? 1 : first.dim(0);
    int es = first.dtype().bits() / 8;
    long total = 0;
    for (Tensor p : parts) {
      total += p.dim(p.rank() - 1);
    }
    ByteBuffer out = ByteBuffer.allocate((int) (rows * total * es)).order(ByteOrder.LITTLE_ENDIAN);
    for (long r = 0; r < rows; r++) {
      for (Tensor p : parts) {
        int w = (int) (p.dim(p.rank() - 1) * es);
        out.put(p.data().slice((int) (r * w), w));
      }
    }
    long[] shape = first.rank() == 1 ? new long[] {total} : new long[] {rows, total};
    return Tensor.of(name, first.dtype(), shape, out.flip());
  }
}
