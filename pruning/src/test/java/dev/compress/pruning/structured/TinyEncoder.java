package dev.compress.pruning.structured;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A one-block post-norm BERT encoder built as the MiniLM exports are: q/k/v MatMul + bias Add,
 * reshape to {@code [b, s, heads, head_dim]} (shape from {@code Concat(Shape..Gather..Unsqueeze,
 * [heads], [head_dim])}, or a constant {@code [0, 0, heads, head_dim]}), transposes, masked softmax
 * attention, reshape back, output projection, residual, decomposed LayerNorm, Erf GELU FFN,
 * residual, decomposed LayerNorm. Inputs {@code x [b, s, HIDDEN]}, {@code attention_mask [b, s]}
 * (int64); output {@code y}.
 */
final class TinyEncoder {
  static final int HIDDEN = 16;
  static final int HEADS = 4;
  static final int HEAD_DIM = 4;
  static final int FFN = 24;
  static final String O_PROJ = "/attn/output/MatMul";
  static final String FC2 = "/ffn/fc2/MatMul";

  private final Graph g = new Graph("tiny-encoder");
  private final Random r;
  private final boolean concatShapes;
  private int k;

  private TinyEncoder(long seed, boolean concatShapes) {
    this.r = new Random(seed);
    this.concatShapes = concatShapes;
  }

  static ModelGraph build(long seed, boolean concatShapes) {
    return new TinyEncoder(seed, concatShapes).model();
  }

  private Tensor gaussian(String name, float std, long... shape) {
    float[] v = new float[(int) Tensor.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian() * std;
    }
    return Tensor.ofFloats(name, shape, v);
  }

  private String node(String name, String op, List<String> in, Attribute... attrs) {
    String out = name + "_output_0";
    Node n = Node.of(name, op, in, List.of(out));
    for (Attribute a : attrs) {
      n.put(a);
    }
    g.nodes().add(n);
    return out;
  }

  private String constant(String name, Tensor t) {
    g.putInitializer(t.withName(name));
    return name;
  }

  private String scalar(float v) {
    return constant("c" + (k++), Tensor.ofFloats("c", new long[0], v));
  }

  private String longs(long... v) {
    return constant("l" + (k++), Tensor.ofLongs("l", new long[] {v.length}, v));
  }

  private String linear(String prefix, String x, int in, int out) {
    String w = constant(prefix + ".weight", gaussian("w", 0.3f, in, out));
    String b = constant(prefix + ".bias", gaussian("b", 0.1f, out));
    String mm = node(prefix + "/MatMul", "MatMul", List.of(x, w));
    return node(prefix + "/Add", "Add", List.of(b, mm));
  }

  private String shape(String prefix, String of, long... tail) {
    if (!concatShapes) {
      long[] v = new long[tail.length + 2];
      System.arraycopy(tail, 0, v, 2, tail.length);
      return longs(v);
    }
    List<String> pieces = new ArrayList<>();
    for (int d = 0; d < 2; d++) {
      String s = node(prefix + "/Shape_" + d, "Shape", List.of(of));
      String gi =
          node(
              prefix + "/Gather_" + d,
              "Gather",
              List.of(s, constant("idx" + (k++), Tensor.ofLongs("i", new long[0], d))),
              Attribute.of("axis", 0L));
      pieces.add(node(prefix + "/Unsqueeze_" + d, "Unsqueeze", List.of(gi, longs(0))));
    }
    for (long t : tail) {
      pieces.add(longs(t));
    }
    return node(prefix + "/Concat", "Concat", pieces, Attribute.of("axis", 0L));
  }

  private String layerNorm(String prefix, String x) {
    String mu =
        node(prefix + "/ReduceMean", "ReduceMean", List.of(x), Attribute.ofInts("axes", -1));
    String d = node(prefix + "/Sub", "Sub", List.of(x, mu));
    String p = node(prefix + "/Pow", "Pow", List.of(d, scalar(2)));
    String var =
        node(prefix + "/ReduceMean_1", "ReduceMean", List.of(p), Attribute.ofInts("axes", -1));
    String e = node(prefix + "/Add", "Add", List.of(var, scalar(1e-12f)));
    String sd = node(prefix + "/Sqrt", "Sqrt", List.of(e));
    String n = node(prefix + "/Div", "Div", List.of(d, sd));
    String gm =
        node(
            prefix + "/Mul",
            "Mul",
            List.of(n, constant(prefix + ".weight", gaussian("g", 0.1f, HIDDEN))));
    return node(
        prefix + "/Add_1",
        "Add",
        List.of(gm, constant(prefix + ".bias", gaussian("b", 0.1f, HIDDEN))));
  }

  private ModelGraph model() {
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 14L);
    g.inputs()
        .add(
            ValueInfo.tensor(
                "x",
                DataType.FLOAT,
                List.of(ValueInfo.Dim.of("b"), ValueInfo.Dim.of("s"), ValueInfo.Dim.of(HIDDEN))));
    g.inputs()
        .add(
            ValueInfo.tensor(
                "attention_mask",
                DataType.INT64,
                List.of(ValueInfo.Dim.of("b"), ValueInfo.Dim.of("s"))));
    // mask: (1 - float(mask[:, None, None, :])) * -10000
    String m1 = node("/Unsqueeze", "Unsqueeze", List.of("attention_mask", longs(1)));
    String m2 = node("/Unsqueeze_1", "Unsqueeze", List.of(m1, longs(2)));
    String mc = node("/Cast", "Cast", List.of(m2), Attribute.of("to", 1L));
    String ms = node("/Sub", "Sub", List.of(scalar(1), mc));
    String mask = node("/Mul", "Mul", List.of(ms, scalar(-10000)));

    String q = linear("/attn/query", "x", HIDDEN, HIDDEN);
    String kk = linear("/attn/key", "x", HIDDEN, HIDDEN);
    String v = linear("/attn/value", "x", HIDDEN, HIDDEN);
    String kr =
        node("/attn/Reshape", "Reshape", List.of(kk, shape("/attn/k", kk, HEADS, HEAD_DIM)));
    String vr =
        node("/attn/Reshape_1", "Reshape", List.of(v, shape("/attn/v", v, HEADS, HEAD_DIM)));
    String qr =
        node("/attn/Reshape_2", "Reshape", List.of(q, shape("/attn/q", q, HEADS, HEAD_DIM)));
    String vt =
        node("/attn/Transpose", "Transpose", List.of(vr), Attribute.ofInts("perm", 0, 2, 1, 3));
    String qt =
        node("/attn/Transpose_1", "Transpose", List.of(qr), Attribute.ofInts("perm", 0, 2, 1, 3));
    String kt =
        node("/attn/Transpose_2", "Transpose", List.of(kr), Attribute.ofInts("perm", 0, 2, 3, 1));
    String s = node("/attn/MatMul", "MatMul", List.of(qt, kt));
    String sd = node("/attn/Div", "Div", List.of(s, scalar(2)));
    String sm = node("/attn/Add", "Add", List.of(sd, mask));
    String p = node("/attn/Softmax", "Softmax", List.of(sm), Attribute.of("axis", -1L));
    String c = node("/attn/MatMul_1", "MatMul", List.of(p, vt));
    String ct =
        node("/attn/Transpose_3", "Transpose", List.of(c), Attribute.ofInts("perm", 0, 2, 1, 3));
    String cr = node("/attn/Reshape_3", "Reshape", List.of(ct, shape("/attn/ctx", ct, HIDDEN)));
    String o = linear("/attn/output", cr, HIDDEN, HIDDEN);
    String r1 = node("/attn/residual", "Add", List.of(o, "x"));
    String h = layerNorm("/attn/LayerNorm", r1);

    String f1 = linear("/ffn/fc1", h, HIDDEN, FFN);
    String a = node("/ffn/act/Div", "Div", List.of(f1, scalar(1.4142135f)));
    String e = node("/ffn/act/Erf", "Erf", List.of(a));
    String e1 = node("/ffn/act/Add", "Add", List.of(e, scalar(1)));
    String gl = node("/ffn/act/Mul", "Mul", List.of(f1, e1));
    String g2 = node("/ffn/act/Mul_1", "Mul", List.of(gl, scalar(0.5f)));
    String f2 = linear("/ffn/fc2", g2, FFN, HIDDEN);
    String r2 = node("/ffn/residual", "Add", List.of(f2, h));
    String y = layerNorm("/ffn/LayerNorm", r2);
    g.nodes().add(Node.of("/out", "Identity", List.of(y), List.of("y")));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    return m;
  }
}
