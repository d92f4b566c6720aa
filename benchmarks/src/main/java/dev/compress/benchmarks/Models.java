package dev.compress.benchmarks;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.List;

/** Single-layer ONNX models {@code y = x · W} in the formats the benchmarks compare. */
final class Models {
  private Models() {}

  private static ModelGraph model(int k, int n) {
    Graph g = new Graph("linear");
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    m.setProducerName("compress-benchmarks");
    g.inputs()
        .add(
            ValueInfo.tensor(
                "x", DataType.FLOAT, List.of(ValueInfo.Dim.of("m"), ValueInfo.Dim.of(k))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    return m;
  }

  /** {@code MatMul(x, W)}, W f32 {@code [K, N]}. */
  static ModelGraph fp32(int k, int n, float[] w) {
    ModelGraph m = model(k, n);
    m.graph().putInitializer(Tensor.ofFloats("W", new long[] {k, n}, w));
    m.graph().nodes().add(Node.of("mm", "MatMul", List.of("x", "W"), List.of("y")));
    return m;
  }

  /** {@code com.microsoft::MatMulNBits} (4 bits, symmetric, no zero points). */
  static ModelGraph int4(int k, int n, int block, byte[] b, float[] scales) {
    ModelGraph m = model(k, n);
    m.opsetImports().put("com.microsoft", 1L);
    int blocks = (k + block - 1) / block;
    m.graph()
        .putInitializer(Tensor.ofBytes("B", DataType.UINT8, new long[] {n, blocks, block / 2}, b));
    m.graph().putInitializer(Tensor.ofFloats("S", new long[] {(long) n * blocks}, scales));
    Node node =
        new Node("mm", "MatMulNBits", "com.microsoft", List.of("x", "B", "S"), List.of("y"));
    node.put(Attribute.of("K", (long) k));
    node.put(Attribute.of("N", (long) n));
    node.put(Attribute.of("bits", 4L));
    node.put(Attribute.of("block_size", (long) block));
    m.graph().nodes().add(node);
    return m;
  }

  /**
   * ONNX Runtime's dynamic int8 pattern ({@code quantize_dynamic}): {@code DynamicQuantizeLinear →
   * MatMulInteger → Cast → Mul(·, x_scale * w_scale)}, W int8 {@code [K, N]}, per-column scales.
   */
  static ModelGraph int8Dynamic(int k, int n, byte[] w, float[] ws) {
    ModelGraph m = model(k, n);
    Graph g = m.graph();
    g.putInitializer(Tensor.ofBytes("W", DataType.INT8, new long[] {k, n}, w));
    g.putInitializer(Tensor.ofFloats("ws", new long[] {n}, ws));
    g.nodes().add(Node.of("dq", "DynamicQuantizeLinear", List.of("x"), List.of("xq", "xs", "xz")));
    g.nodes().add(Node.of("mmi", "MatMulInteger", List.of("xq", "W", "xz"), List.of("i")));
    g.nodes().add(Node.of("scale", "Mul", List.of("xs", "ws"), List.of("s")));
    Node cast = Node.of("cast", "Cast", List.of("i"), List.of("f"));
    cast.put(Attribute.of("to", 1L));
    g.nodes().add(cast);
    g.nodes().add(Node.of("out", "Mul", List.of("f", "s"), List.of("y")));
    return m;
  }
}
