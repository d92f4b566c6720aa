package dev.compress.benchmarks;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark fixture (a copy of the runtime tests' QuantizedModels): quantizes every constant-weight
 * {@code MatMul} of a model in place, the way the quantization module's RTN pass writes it (runtime
 * cannot depend on that module), so the executors can be checked on real quantized models.
 */
final class MiniLmQuant {
  private MiniLmQuant() {}

  /** The constant {@code [K, N]} f32 weights of MatMul nodes. */
  private static List<Node> linearMatMuls(Graph g) {
    List<Node> out = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (n.domain().isEmpty() && n.opType().equals("MatMul")) {
        Tensor w = g.initializers().get(n.input(1));
        if (w != null && w.rank() == 2 && w.dtype() == DataType.FLOAT) {
          out.add(n);
        }
      }
    }
    return out;
  }

  /**
   * Per-output-channel symmetric int8 ({@code scale = max|w| / 127}, zero point 0) behind {@code
   * DequantizeLinear(axis=1)}.
   *
   * @return the number of layers quantized
   */
  public static int int8DequantizeLinear(ModelGraph model) {
    Graph g = model.graph();
    List<Node> mms = linearMatMuls(g);
    for (Node mm : mms) {
      Tensor w = g.initializers().get(mm.input(1));
      int k = (int) w.dim(0);
      int n = (int) w.dim(1);
      float[] v = w.toFloatArray();
      float[] s = new float[n];
      for (int i = 0; i < k; i++) {
        for (int o = 0; o < n; o++) {
          s[o] = Math.max(s[o], Math.abs(v[i * n + o]));
        }
      }
      for (int o = 0; o < n; o++) {
        s[o] = s[o] == 0 ? 1 : s[o] / 127f;
      }
      byte[] q = new byte[k * n];
      for (int i = 0; i < k; i++) {
        for (int o = 0; o < n; o++) {
          q[i * n + o] = (byte) Math.max(-127, Math.min(127, Math.round(v[i * n + o] / s[o])));
        }
      }
      String base = mm.name() + "_w";
      g.putInitializer(Tensor.ofBytes(base + "_q", DataType.INT8, new long[] {k, n}, q));
      g.putInitializer(Tensor.ofFloats(base + "_s", new long[] {n}, s));
      Node dq =
          Node.of(
              base + "_DequantizeLinear",
              "DequantizeLinear",
              List.of(base + "_q", base + "_s"),
              List.of(base + "_dq"));
      dq.put(Attribute.of("axis", 1L));
      g.nodes().add(g.nodes().indexOf(mm), dq);
      mm.inputs().set(1, base + "_dq");
    }
    removeUnread(g);
    return mms.size();
  }

  /**
   * Symmetric 4-bit blocks of {@code block} along K ({@code scale = max|w| / 7}, codes {@code
   * round(w / scale) + 8}) as {@code com.microsoft::MatMulNBits} in ONNX Runtime's layout.
   *
   * @return the number of layers quantized
   */
  public static int int4MatMulNBits(ModelGraph model, int block) {
    Graph g = model.graph();
    List<Node> mms = linearMatMuls(g);
    for (Node mm : mms) {
      Tensor w = g.initializers().get(mm.input(1));
      int k = (int) w.dim(0);
      int n = (int) w.dim(1);
      float[] v = w.toFloatArray();
      int blocks = (k + block - 1) / block;
      byte[] b = new byte[n * blocks * block / 2];
      float[] s = new float[n * blocks];
      for (int o = 0; o < n; o++) {
        for (int blk = 0; blk < blocks; blk++) {
          float max = 0;
          for (int i = blk * block; i < Math.min(k, (blk + 1) * block); i++) {
            max = Math.max(max, Math.abs(v[i * n + o]));
          }
          float sc = max == 0 ? 1 : max / 7f;
          s[o * blocks + blk] = sc;
          for (int j = 0; j < block; j++) {
            int i = blk * block + j;
            int code = i < k ? Math.max(0, Math.min(15, Math.round(v[i * n + o] / sc) + 8)) : 8;
            b[(o * blocks + blk) * (block / 2) + j / 2] |= (byte) (code << ((j & 1) * 4));
          }
        }
      }
      String base = mm.name() + "_w";
      g.putInitializer(
          Tensor.ofBytes(base + "_q4", DataType.UINT8, new long[] {n, blocks, block / 2}, b));
      g.putInitializer(Tensor.ofFloats(base + "_scales", new long[] {n * blocks}, s));
      mm.setDomain("com.microsoft");
      mm.setOpType("MatMulNBits");
      mm.inputs().set(1, base + "_q4");
      mm.inputs().add(base + "_scales");
      mm.put(Attribute.of("K", (long) k));
      mm.put(Attribute.of("N", (long) n));
      mm.put(Attribute.of("bits", 4L));
      mm.put(Attribute.of("block_size", (long) block));
    }
    model.opsetImports().putIfAbsent("com.microsoft", 1L);
    removeUnread(g);
    return mms.size();
  }

  private static void removeUnread(Graph g) {
    java.util.Set<String> read = new java.util.HashSet<>();
    g.nodes().forEach(n -> read.addAll(n.inputs()));
    g.outputs().forEach(o -> read.add(o.name()));
    java.util.Set<String> dropped = new java.util.HashSet<>(g.initializers().keySet());
    dropped.removeAll(read);
    g.initializers().keySet().removeAll(dropped);
    g.inputs().removeIf(i -> dropped.contains(i.name()));
  }
}
