package dev.compress.quantization.rtn;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.List;
import java.util.Random;

/**
 * A two-layer MLP built in code: {@code x[b, in] -> MatMul W1[in, hidden] -> Add b1 -> Relu ->
 * Gemm(W2[out, hidden], b2, transB=1) -> y[b, out]}, Gaussian weights from a fixed seed.
 */
final class Mlp {
  static final String FC1 = "/fc1/MatMul";
  static final String FC2 = "/fc2/Gemm";

  private Mlp() {}

  static ModelGraph build(long opset, int in, int hidden, int out, long seed) {
    return build(opset, in, hidden, out, seed, true);
  }

  /** As above; with {@code transB = false} the Gemm weight is stored {@code [hidden, out]}. */
  static ModelGraph build(long opset, int in, int hidden, int out, long seed, boolean transB) {
    Graph g = new Graph("mlp");
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", opset);
    m.setProducerName("compress-quantization-tests");
    Random r = new Random(seed);
    g.inputs()
        .add(
            ValueInfo.tensor(
                "x", DataType.FLOAT, List.of(ValueInfo.Dim.of("batch"), ValueInfo.Dim.of(in))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    g.putInitializer(gaussian("W1", r, 0.1f, in, hidden));
    g.putInitializer(gaussian("b1", r, 0.1f, hidden));
    g.putInitializer(
        transB ? gaussian("W2", r, 0.1f, out, hidden) : gaussian("W2", r, 0.1f, hidden, out));
    g.putInitializer(gaussian("b2", r, 0.1f, out));
    g.nodes().add(Node.of(FC1, "MatMul", List.of("x", "W1"), List.of("h0")));
    g.nodes().add(Node.of("/fc1/Add", "Add", List.of("h0", "b1"), List.of("h1")));
    g.nodes().add(Node.of("/relu", "Relu", List.of("h1"), List.of("h2")));
    g.nodes()
        .add(
            Node.of(FC2, "Gemm", List.of("h2", "W2", "b2"), List.of("y"))
                .put(Attribute.of("transB", transB ? 1L : 0L)));
    return m;
  }

  static Tensor gaussian(String name, Random r, float std, long... shape) {
    float[] v = new float[(int) Tensor.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian() * std;
    }
    return Tensor.ofFloats(name, shape, v);
  }

  /** A seeded input batch {@code [batch, in]}. */
  static Tensor input(long seed, int batch, int in) {
    return gaussian("x", new Random(seed), 1f, batch, in);
  }
}
