package dev.compress.pruning.structured;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Tiny image classifiers (input {@code image [N, 3, 8, 8]}, output {@code logits [N, 5]}) built
 * with the api's {@link GraphBuilder}, each Conv followed by an inference-mode BatchNormalization:
 *
 * <ul>
 *   <li>{@link #plain}: conv1 (8) BN Relu MaxPool, conv2 (6) BN SiLU AveragePool (2 x 2), Flatten,
 *       Gemm: a channel of conv2 is 4 consecutive Gemm input features;
 *   <li>{@link #residual}: conv0 (8) BN Relu = x; conv1 (8) BN Relu conv2 (8) BN; Add(., x) Relu,
 *       GlobalAveragePool, Flatten, Gemm: conv0 and conv2 share their channels through the Add;
 *   <li>{@link #separable}: conv0 (8) BN Clip(0, 6), a 3x3 Conv with {@code group} (8: depthwise)
 *       BN Relu, a 1x1 Conv (6) BN Relu, GlobalAveragePool, Flatten, Gemm.
 * </ul>
 *
 * BatchNormalization parameters are drawn so every channel is distinct: gamma in [0.5, 1.5], beta
 * and the mean around 0, the variance in [0.5, 1.5].
 */
final class TinyCnns {
  static final int SIDE = 8;
  static final int CLASSES = 5;

  private TinyCnns() {}

  static ModelGraph plain(long seed) {
    Random r = new Random(seed);
    GraphBuilder b = GraphBuilder.create("plain").opset("", 17);
    String x = b.input("image", DataType.FLOAT, "N", 3, SIDE, SIDE);
    x = convBn(b, "/conv1", x, 3, 8, 3, 1, r);
    x = b.op("Relu", "/conv1/Relu", List.of(x));
    x = pool(b, "MaxPool", "/conv1/MaxPool", x);
    x = convBn(b, "/conv2", x, 8, 6, 3, 1, r);
    x = b.silu("/conv2/act", x);
    x = pool(b, "AveragePool", "/conv2/AveragePool", x);
    x = b.op("Flatten", "/flatten", List.of(x), Attribute.of("axis", 1L));
    head(b, x, 6 * 2 * 2, r);
    return b.build();
  }

  static ModelGraph residual(long seed) {
    Random r = new Random(seed);
    GraphBuilder b = GraphBuilder.create("residual").opset("", 17);
    String x = b.input("image", DataType.FLOAT, "N", 3, SIDE, SIDE);
    x = b.op("Relu", "/conv0/Relu", List.of(convBn(b, "/conv0", x, 3, 8, 3, 1, r)));
    String h = b.op("Relu", "/conv1/Relu", List.of(convBn(b, "/conv1", x, 8, 8, 3, 1, r)));
    h = convBn(b, "/conv2", h, 8, 8, 3, 1, r);
    h = b.op("Add", "/block/Add", List.of(h, x));
    h = b.op("Relu", "/block/Relu", List.of(h));
    h = b.op("GlobalAveragePool", "/gap", List.of(h));
    h = b.op("Flatten", "/flatten", List.of(h), Attribute.of("axis", 1L));
    head(b, h, 8, r);
    return b.build();
  }

  static ModelGraph separable(long seed, int group) {
    Random r = new Random(seed);
    GraphBuilder b = GraphBuilder.create("separable").opset("", 17);
    String x = b.input("image", DataType.FLOAT, "N", 3, SIDE, SIDE);
    x = convBn(b, "/conv0", x, 3, 8, 3, 1, r);
    x =
        b.op(
            "Clip",
            "/conv0/Clip",
            List.of(x, b.scalar("/conv0/min", 0f), b.scalar("/conv0/max", 6f)));
    x = b.op("Relu", "/dw/Relu", List.of(convBn(b, "/dw", x, 8, 8, 3, group, r)));
    x = b.op("Relu", "/pw/Relu", List.of(convBn(b, "/pw", x, 8, 6, 1, 1, r)));
    x = b.op("GlobalAveragePool", "/gap", List.of(x));
    x = b.op("Flatten", "/flatten", List.of(x), Attribute.of("axis", 1L));
    head(b, x, 6, r);
    return b.build();
  }

  /** Conv (k x k, pad k/2, bias) then BatchNormalization; the Conv node is {@code p/Conv}. */
  static String convBn(
      GraphBuilder b, String p, String x, int in, int out, int k, int group, Random r) {
    String w =
        b.initializer(
            normal(
                p.substring(1) + ".weight",
                r,
                1.0 / Math.sqrt(in * k * k / (double) group),
                out,
                in / group,
                k,
                k));
    String bias = b.initializer(normal(p.substring(1) + ".bias", r, 0.1, out));
    int pad = k / 2;
    String y =
        b.op(
            "Conv",
            p + "/Conv",
            List.of(x, w, bias),
            Attribute.ofInts("kernel_shape", k, k),
            Attribute.ofInts("pads", pad, pad, pad, pad),
            Attribute.of("group", (long) group));
    float[] gamma = new float[out];
    float[] var = new float[out];
    for (int c = 0; c < out; c++) {
      gamma[c] = 0.5f + r.nextFloat();
      var[c] = 0.5f + r.nextFloat();
    }
    String n = p.substring(1) + "_bn";
    List<String> bnIn =
        List.of(
            y,
            b.floats(n + ".weight", new long[] {out}, gamma),
            b.floats(n + ".bias", new long[] {out}, normal("", r, 0.1, out).toFloatArray()),
            b.floats(n + ".running_mean", new long[] {out}, normal("", r, 0.1, out).toFloatArray()),
            b.floats(n + ".running_var", new long[] {out}, var));
    return b.op(
        "BatchNormalization", p + "/BatchNormalization", bnIn, Attribute.of("epsilon", 1e-5f));
  }

  private static String pool(GraphBuilder b, String op, String name, String x) {
    return b.op(
        op,
        name,
        List.of(x),
        Attribute.ofInts("kernel_shape", 2, 2),
        Attribute.ofInts("strides", 2, 2));
  }

  private static void head(GraphBuilder b, String x, int features, Random r) {
    b.nodeTo(
        "",
        "Gemm",
        "/fc/Gemm",
        List.of(
            x,
            b.initializer(normal("fc.weight", r, 1.0 / Math.sqrt(features), CLASSES, features)),
            b.initializer(normal("fc.bias", r, 0.1, CLASSES))),
        List.of("logits"),
        Attribute.of("transB", 1L));
    b.output("logits", DataType.FLOAT, "N", CLASSES);
  }

  static Tensor normal(String name, Random r, double std, long... shape) {
    float[] v = new float[(int) Tensor.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextGaussian() * std);
    }
    return Tensor.ofFloats(name, shape, v);
  }

  /** A batch of {@code n} random images. */
  static Map<String, Tensor> images(long seed, int n) {
    return Map.of("image", normal("image", new Random(seed), 1, n, 3, SIDE, SIDE));
  }
}
