package dev.compress.evaluation;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.graph.ValueInfo.Dim;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;

/** Tiny ONNX models built in code, written to files, for the evaluation tests. */
public final class TinyModels {
  private TinyModels() {}

  /**
   * A bigram language model: {@code logits = E[input_ids]}, {@code input_ids (1, T) int64 -> logits
   * (1, T, V)}, so the next-token distribution after token {@code a} is {@code softmax(E[a])}.
   */
  public static Path bigram(Path file, float[][] e) throws Exception {
    int v = e.length;
    float[] flat = new float[v * v];
    for (int i = 0; i < v; i++) {
      System.arraycopy(e[i], 0, flat, i * v, v);
    }
    Graph g = new Graph("bigram");
    g.inputs()
        .add(ValueInfo.tensor("input_ids", DataType.INT64, List.of(Dim.of("b"), Dim.of("t"))));
    g.putInitializer(Tensor.ofFloats("E", new long[] {v, v}, flat));
    g.nodes().add(Node.of("gather", "Gather", List.of("E", "input_ids"), List.of("logits")));
    g.outputs().add(ValueInfo.tensor("logits", DataType.FLOAT, null));
    return write(g, file);
  }

  /** A linear classifier: {@code x (N, in) -> MatMul W (in, out) -> logits (N, out)}. */
  public static Path linear(Path file, float[][] w) throws Exception {
    int in = w.length;
    int out = w[0].length;
    float[] flat = new float[in * out];
    for (int i = 0; i < in; i++) {
      System.arraycopy(w[i], 0, flat, i * out, out);
    }
    Graph g = new Graph("linear");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of("N"), Dim.of(in))));
    g.putInitializer(Tensor.ofFloats("W", new long[] {in, out}, flat));
    g.nodes().add(Node.of("/fc/MatMul", "MatMul", List.of("x", "W"), List.of("logits")));
    g.outputs().add(ValueInfo.tensor("logits", DataType.FLOAT, null));
    return write(g, file);
  }

  /**
   * A tiny text encoder over the MiniLM vocabulary: {@code last_hidden_state = E[input_ids] W},
   * {@code input_ids (B, T) int64 -> (B, T, 8)}, with seeded E; W is the seeded matrix plus {@code
   * noise} times a second seeded matrix (0: the reference).
   */
  public static Path encoder(Path file, float noise) throws Exception {
    int vocab = 30522;
    int width = 8;
    java.util.Random r = new java.util.Random(7);
    float[] e = new float[vocab * width];
    for (int i = 0; i < e.length; i++) {
      e[i] = (float) r.nextGaussian();
    }
    float[] w = new float[width * width];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    java.util.Random n = new java.util.Random(11);
    for (int i = 0; i < w.length; i++) {
      w[i] += noise * (float) n.nextGaussian();
    }
    Graph g = new Graph("encoder");
    g.inputs()
        .add(ValueInfo.tensor("input_ids", DataType.INT64, List.of(Dim.of("b"), Dim.of("t"))));
    g.putInitializer(Tensor.ofFloats("E", new long[] {vocab, width}, e));
    g.putInitializer(Tensor.ofFloats("W", new long[] {width, width}, w));
    g.nodes().add(Node.of("/embed/Gather", "Gather", List.of("E", "input_ids"), List.of("h")));
    g.nodes()
        .add(
            Node.of(
                "/encoder/dense/MatMul",
                "MatMul",
                List.of("h", "W"),
                List.of("last_hidden_state")));
    g.outputs().add(ValueInfo.tensor("last_hidden_state", DataType.FLOAT, null));
    return write(g, file);
  }

  /**
   * A two-layer MLP {@code x (N, 4) -> MatMul W1 -> Relu -> MatMul W2 -> y (N, 3)} with seeded
   * weights; {@code noise1} perturbs W1 (0: the reference).
   */
  public static ModelGraph mlp(float noise1) {
    java.util.Random r = new java.util.Random(3);
    java.util.Random n = new java.util.Random(5);
    float[] w1 = new float[4 * 6];
    for (int i = 0; i < w1.length; i++) {
      w1[i] = (float) r.nextGaussian() + noise1 * (float) n.nextGaussian();
    }
    float[] w2 = new float[6 * 3];
    for (int i = 0; i < w2.length; i++) {
      w2[i] = (float) r.nextGaussian();
    }
    Graph g = new Graph("mlp");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of("N"), Dim.of(4))));
    g.putInitializer(Tensor.ofFloats("W1", new long[] {4, 6}, w1));
    g.putInitializer(Tensor.ofFloats("W2", new long[] {6, 3}, w2));
    g.nodes().add(Node.of("/fc1/MatMul", "MatMul", List.of("x", "W1"), List.of("h")));
    g.nodes().add(Node.of("/act/Relu", "Relu", List.of("h"), List.of("r")));
    g.nodes().add(Node.of("/fc2/MatMul", "MatMul", List.of("r", "W2"), List.of("y")));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    return m;
  }

  /** A graph with one {@code com.microsoft::MatMulNBits} node (int4), which ONNX Runtime runs. */
  public static ModelGraph withContribOp() {
    Graph g = new Graph("nbits");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of("N"), Dim.of(32))));
    g.putInitializer(Tensor.ofBytes("B", DataType.UINT8, new long[] {2, 1, 16}, new byte[32]));
    g.putInitializer(Tensor.ofFloats("S", new long[] {2}, 1f, 1f));
    Node n =
        new Node(
            "/fc/MatMul",
            "MatMulNBits",
            "com.microsoft",
            List.of("x", "B", "S"),
            List.of("logits"));
    n.put(Attribute.of("K", 32L));
    n.put(Attribute.of("N", 2L));
    n.put(Attribute.of("bits", 4L));
    n.put(Attribute.of("block_size", 32L));
    g.nodes().add(n);
    g.outputs().add(ValueInfo.tensor("logits", DataType.FLOAT, null));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    m.opsetImports().put("com.microsoft", 1L);
    return m;
  }

  /**
   * A one-node model of an operator ONNX Runtime runs and the DJL interpreter has no kernel for.
   */
  public static ModelGraph withUnsupportedOp() {
    Graph g = new Graph("hardmax");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of("N"), Dim.of(32))));
    g.nodes().add(new Node("/act/Hardmax", "Hardmax", "", List.of("x"), List.of("y")));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    return m;
  }

  private static Path write(Graph g, Path file) throws Exception {
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    OnnxWriter.write(m, file);
    return file;
  }
}
