package dev.compress.distillation;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Gaussian;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A BERT-style encoder built in code (opset 17), named as the Hugging Face exporter names BERT:
 * word embeddings and LayerNorm; an additive attention mask {@code (1 - mask) * -10000} read by
 * every block; post-norm blocks {@code /encoder/layer.i/...} of single-head attention (q, k, v,
 * scaled scores through an unnamed {@code Constant} node, as exporters emit them) and a ReLU FFN;
 * outputs {@code last_hidden_state [batch, tokens, dim]} and a tanh pooler over the first token.
 *
 * <p>{@link #build(int, int, List, long)} with a subset of blocks gives the dense model with only
 * those blocks, holding exactly the weights the full model holds for them (seeded per block): the
 * reference for layer dropping.
 */
public final class TinyBert {
  public static final int VOCAB = 50;

  private TinyBert() {}

  /** All {@code blocks} blocks. */
  public static ModelGraph build(int blocks, int dim, long seed) {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < blocks; i++) {
      all.add(i);
    }
    return build(blocks, dim, all, seed);
  }

  /** Only the blocks {@code only} (ascending) of a {@code blocks}-block model. */
  public static ModelGraph build(int blocks, int dim, List<Integer> only, long seed) {
    Graph g = new Graph("tiny-bert");
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    List<ValueInfo.Dim> bt = List.of(ValueInfo.Dim.of("batch"), ValueInfo.Dim.of("tokens"));
    g.inputs().add(ValueInfo.tensor("input_ids", DataType.INT64, bt));
    g.inputs().add(ValueInfo.tensor("attention_mask", DataType.INT64, bt));
    g.outputs().add(ValueInfo.tensor("last_hidden_state", DataType.FLOAT, null));
    g.outputs().add(ValueInfo.tensor("pooler_output", DataType.FLOAT, null));
    Random r = new Random(seed);
    g.putInitializer(Gaussian.tensor("word_embeddings", r, 1f, 0f, VOCAB, dim));
    g.putInitializer(Gaussian.tensor("emb_ln_w", r, 0.1f, 1f, dim));
    g.putInitializer(Gaussian.tensor("emb_ln_b", r, 0.1f, 0f, dim));
    g.putInitializer(Tensor.ofLongs("axes1", new long[] {1}, 1));
    g.putInitializer(Tensor.ofFloats("one", new long[] {}, 1f));
    g.putInitializer(Tensor.ofFloats("neg", new long[] {}, -10000f));
    add(g, "/embeddings/word_embeddings/Gather", "Gather", "word_embeddings", "input_ids", "emb");
    add(g, "/embeddings/LayerNorm", "LayerNormalization", "emb", "emb_ln_w", "emb_ln_b", "h0")
        .put(Attribute.of("epsilon", 1e-12f));
    add(g, "/Unsqueeze", "Unsqueeze", "attention_mask", "axes1", "mask3");
    add(g, "/Cast", "Cast", "mask3", "maskf").put(Attribute.of("to", 1L));
    add(g, "/Sub", "Sub", "one", "maskf", "inv");
    add(g, "/Mul", "Mul", "inv", "neg", "mask_add");
    String h = "h0";
    for (int i = 0; i < blocks; i++) {
      Random br = new Random(seed * 1000 + i + 1);
      if (!only.contains(i)) {
        continue;
      }
      h = block(g, br, i, dim, h, only.get(only.size() - 1) == i);
    }
    Random pr = new Random(seed * 1000 + 999);
    g.putInitializer(Gaussian.tensor("pooler.weight", pr, 0.3f, 0f, dim, dim));
    g.putInitializer(Gaussian.tensor("pooler.bias", pr, 0.1f, 0f, dim));
    g.putInitializer(Tensor.ofLongs("zero", new long[] {}, 0));
    add(g, "/pooler/Gather", "Gather", "last_hidden_state", "zero", "first")
        .put(Attribute.of("axis", 1L));
    add(g, "/pooler/dense/Gemm", "Gemm", "first", "pooler.weight", "pooler.bias", "pooled")
        .put(Attribute.of("transB", 1L));
    add(g, "/pooler/activation/Tanh", "Tanh", "pooled", "pooler_output");
    return m;
  }

  private static String block(Graph g, Random r, int i, int dim, String h, boolean last) {
    String p = "/encoder/layer." + i;
    String w = "encoder.layer." + i + ".";
    for (String x : List.of("q", "k", "v", "o")) {
      g.putInitializer(Gaussian.tensor(w + x + ".weight", r, 0.4f, 0f, dim, dim));
      g.putInitializer(Gaussian.tensor(w + x + ".bias", r, 0.1f, 0f, dim));
    }
    int ff = 2 * dim;
    g.putInitializer(Gaussian.tensor(w + "ff1.weight", r, 0.3f, 0f, dim, ff));
    g.putInitializer(Gaussian.tensor(w + "ff1.bias", r, 0.1f, 0f, ff));
    g.putInitializer(Gaussian.tensor(w + "ff2.weight", r, 0.3f, 0f, ff, dim));
    g.putInitializer(Gaussian.tensor(w + "ff2.bias", r, 0.1f, 0f, dim));
    for (String x : List.of("ln1", "ln2")) {
      g.putInitializer(Gaussian.tensor(w + x + ".weight", r, 0.1f, 1f, dim));
      g.putInitializer(Gaussian.tensor(w + x + ".bias", r, 0.1f, 0f, dim));
    }
    String a = p + "/attention/self/";
    for (String x : List.of("q", "k", "v")) {
      add(g, a + x + "/MatMul", "MatMul", h, w + x + ".weight", a + x + "_mm");
      add(g, a + x + "/Add", "Add", w + x + ".bias", a + x + "_mm", a + x);
    }
    add(g, a + "Transpose", "Transpose", a + "k", a + "kt").put(Attribute.ofInts("perm", 0, 2, 1));
    add(g, a + "MatMul", "MatMul", a + "q", a + "kt", a + "scores");
    // an exporter's unnamed constant inside the block
    add(g, "Constant_" + (40 + i), "Constant", "onnx::Div_" + i)
        .put(Attribute.of("value", Tensor.ofFloats("c", new long[] {}, (float) Math.sqrt(dim))));
    add(g, a + "Div", "Div", a + "scores", "onnx::Div_" + i, a + "scaled");
    add(g, a + "Add", "Add", a + "scaled", "mask_add", a + "masked");
    add(g, a + "Softmax", "Softmax", a + "masked", a + "probs").put(Attribute.of("axis", -1L));
    add(g, a + "MatMul_1", "MatMul", a + "probs", a + "v", a + "ctx");
    String o = p + "/attention/output/";
    add(g, o + "dense/MatMul", "MatMul", a + "ctx", w + "o.weight", o + "mm");
    add(g, o + "dense/Add", "Add", w + "o.bias", o + "mm", o + "dense");
    add(g, o + "Add", "Add", o + "dense", h, o + "res");
    add(
            g,
            o + "LayerNorm",
            "LayerNormalization",
            o + "res",
            w + "ln1.weight",
            w + "ln1.bias",
            o + "ln")
        .put(Attribute.of("epsilon", 1e-12f));
    String f = p + "/intermediate/dense/";
    add(g, f + "MatMul", "MatMul", o + "ln", w + "ff1.weight", f + "mm");
    add(g, f + "Add", "Add", w + "ff1.bias", f + "mm", f + "pre");
    add(g, p + "/intermediate/act/Relu", "Relu", f + "pre", f + "act");
    String q = p + "/output/";
    add(g, q + "dense/MatMul", "MatMul", f + "act", w + "ff2.weight", q + "mm");
    add(g, q + "dense/Add", "Add", w + "ff2.bias", q + "mm", q + "dense");
    add(g, q + "Add", "Add", q + "dense", o + "ln", q + "res");
    String out = last ? "last_hidden_state" : q + "LayerNorm_output";
    add(g, q + "LayerNorm", "LayerNormalization", q + "res", w + "ln2.weight", w + "ln2.bias", out)
        .put(Attribute.of("epsilon", 1e-12f));
    return out;
  }

  private static Node add(Graph g, String name, String op, String... io) {
    List<String> in = new ArrayList<>(List.of(io).subList(0, io.length - 1));
    Node n = Node.of(name, op, in, List.of(io[io.length - 1]));
    g.nodes().add(n);
    return n;
  }

  /** Seeded token ids and a mask with the last {@code pad} tokens of the second row padded. */
  public static Map<String, Tensor> inputs(long seed, int batch, int tokens, int pad) {
    Random r = new Random(seed);
    long[] ids = new long[batch * tokens];
    long[] mask = new long[batch * tokens];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < tokens; t++) {
        ids[b * tokens + t] = r.nextInt(VOCAB);
        mask[b * tokens + t] = b == 1 && t >= tokens - pad ? 0 : 1;
      }
    }
    Map<String, Tensor> m = new HashMap<>();
    m.put("input_ids", Tensor.ofLongs("input_ids", new long[] {batch, tokens}, ids));
    m.put("attention_mask", Tensor.ofLongs("attention_mask", new long[] {batch, tokens}, mask));
    return m;
  }
}
