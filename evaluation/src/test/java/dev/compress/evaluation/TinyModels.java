package dev.compress.evaluation;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Gaussian;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Tiny task models for the evaluation tests (a bigram language model, a linear classifier, an
 * embedding encoder over the MiniLM vocabulary, an MLP with a perturbable layer, and one-node
 * models of operators the engines treat differently), built with the api's {@link GraphBuilder},
 * weights drawn from the shared {@link Gaussian}. The shared transformer and MLP fixtures ({@link
 * dev.compress.fixtures.TinyModels}) have other inputs and outputs than these tasks need.
 */
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
    GraphBuilder b = GraphBuilder.create("bigram");
    String ids = b.input("input_ids", DataType.INT64, "b", "t");
    String table = b.floats("E", new long[] {v, v}, flat);
    b.output(b.opTo("Gather", "gather", List.of(table, ids), "logits"), DataType.FLOAT);
    return write(b, file);
  }

  /** A linear classifier: {@code x (N, in) -> MatMul W (in, out) -> logits (N, out)}. */
  public static Path linear(Path file, float[][] w) throws Exception {
    int in = w.length;
    int out = w[0].length;
    float[] flat = new float[in * out];
    for (int i = 0; i < in; i++) {
      System.arraycopy(w[i], 0, flat, i * out, out);
    }
    GraphBuilder b = GraphBuilder.create("linear");
    String x = b.input("x", DataType.FLOAT, "N", in);
    String weight = b.floats("W", new long[] {in, out}, flat);
    b.output(b.opTo("MatMul", "/fc/MatMul", List.of(x, weight), "logits"), DataType.FLOAT);
    return write(b, file);
  }

  /**
   * A tiny text encoder over the MiniLM vocabulary: {@code last_hidden_state = E[input_ids] W},
   * {@code input_ids (B, T) int64 -> (B, T, 8)}, with seeded E; W is the seeded matrix plus {@code
   * noise} times a second seeded matrix (0: the reference).
   */
  public static Path encoder(Path file, float noise) throws Exception {
    int vocab = 30522;
    int width = 8;
    Random r = new Random(7);
    float[] e = Gaussian.floats(r, 1f, vocab * width);
    float[] w = perturbed(Gaussian.floats(r, 1f, width * width), noise, new Random(11));
    GraphBuilder b = GraphBuilder.create("encoder");
    String ids = b.input("input_ids", DataType.INT64, "b", "t");
    String table = b.floats("E", new long[] {vocab, width}, e);
    String weight = b.floats("W", new long[] {width, width}, w);
    String h = b.opTo("Gather", "/embed/Gather", List.of(table, ids), "h");
    b.output(
        b.opTo("MatMul", "/encoder/dense/MatMul", List.of(h, weight), "last_hidden_state"),
        DataType.FLOAT);
    return write(b, file);
  }

  /**
   * A two-layer MLP {@code x (N, 4) -> MatMul W1 -> Relu -> MatMul W2 -> y (N, 3)} with seeded
   * weights; {@code noise1} perturbs W1 (0: the reference).
   */
  public static ModelGraph mlp(float noise1) {
    Random r = new Random(3);
    float[] w1 = perturbed(Gaussian.floats(r, 1f, 4 * 6), noise1, new Random(5));
    float[] w2 = Gaussian.floats(r, 1f, 6 * 3);
    GraphBuilder b = GraphBuilder.create("mlp");
    String x = b.input("x", DataType.FLOAT, "N", 4);
    String h =
        b.opTo("MatMul", "/fc1/MatMul", List.of(x, b.floats("W1", new long[] {4, 6}, w1)), "h");
    String a = b.opTo("Relu", "/act/Relu", List.of(h), "r");
    String y =
        b.opTo("MatMul", "/fc2/MatMul", List.of(a, b.floats("W2", new long[] {6, 3}, w2)), "y");
    return b.output(y, DataType.FLOAT).build();
  }

  /** A graph with one {@code com.microsoft::MatMulNBits} node (int4), which ONNX Runtime runs. */
  public static ModelGraph withContribOp() {
    GraphBuilder b = GraphBuilder.create("nbits").opset(GraphBuilder.MS_DOMAIN, 1);
    String x = b.input("x", DataType.FLOAT, "N", 32);
    String packed =
        b.initializer(Tensor.ofBytes("B", DataType.UINT8, new long[] {2, 1, 16}, new byte[32]));
    String scales = b.floats("S", new long[] {2}, 1f, 1f);
    b.nodeTo(
        GraphBuilder.MS_DOMAIN,
        "MatMulNBits",
        "/fc/MatMul",
        List.of(x, packed, scales),
        List.of("logits"),
        Attribute.of("K", 32L),
        Attribute.of("N", 2L),
        Attribute.of("bits", 4L),
        Attribute.of("block_size", 32L));
    return b.output("logits", DataType.FLOAT).build();
  }

  /**
   * A one-node model of an operator ONNX Runtime runs and the DJL interpreter has no kernel for.
   */
  public static ModelGraph withUnsupportedOp() {
    GraphBuilder b = GraphBuilder.create("hardmax");
    String x = b.input("x", DataType.FLOAT, "N", 32);
    return b.output(b.opTo("Hardmax", "/act/Hardmax", List.of(x), "y"), DataType.FLOAT).build();
  }

  /** {@code w + noise * N(0, 1)} elementwise, the noise drawn from {@code n} (in place). */
  private static float[] perturbed(float[] w, float noise, Random n) {
    float[] d = Gaussian.floats(n, 1f, w.length);
    for (int i = 0; i < w.length; i++) {
      w[i] += noise * d[i];
    }
    return w;
  }

  private static Path write(GraphBuilder b, Path file) throws Exception {
    OnnxWriter.write(b.build(), file);
    return file;
  }
}
