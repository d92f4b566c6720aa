package dev.compress.quantization.awq;

import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Small graphs built in code for AWQ known-answer tests.
 *
 * <p>{@link #postNorm}: a post-norm transformer-like block, {@code x[b, t, D] -> LN1 -> h}; {@code
 * h -> /a/MatMul (+ba)} and {@code h -> /b/MatMul}; {@code m = a * b -> /o/MatMul (+bo)}; {@code r
 * = o + h} (the residual reads the norm output, as in BERT); {@code LN2(r) -> /c/MatMul -> y}. The
 * group {a, b} folds into LN1 (with a compensating Mul on the residual), {o} has no foldable
 * producer, {c} folds into LN2 (whose output feeds only c).
 *
 * <p>{@link #chain}: {@code x -> /fc1/MatMul (+b1) -> /fc2/MatMul -> y}; fc2's scale folds into
 * fc1's output rows and bias.
 */
final class Block {
  static final int D = 64;
  static final int H = 128;

  private Block() {}

  static ModelGraph postNorm(long seed) {
    Graph g = new Graph("block");
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    Random r = new Random(seed);
    g.inputs().add(input("x", 3, D));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    g.putInitializer(gaussian("g1", r, 0.3f, 1f, D));
    g.putInitializer(gaussian("be1", r, 0.1f, 0f, D));
    g.putInitializer(gaussian("Wa", r, 0.1f, 0f, D, H));
    g.putInitializer(gaussian("ba", r, 0.1f, 0f, H));
    g.putInitializer(gaussian("Wb", r, 0.1f, 0f, D, H));
    g.putInitializer(gaussian("Wo", r, 0.1f, 0f, H, D));
    g.putInitializer(gaussian("bo", r, 0.1f, 0f, D));
    g.putInitializer(gaussian("g2", r, 0.3f, 1f, D));
    g.putInitializer(gaussian("be2", r, 0.1f, 0f, D));
    g.putInitializer(gaussian("Wc", r, 0.1f, 0f, D, D));
    g.nodes().add(ln("/ln1/LayerNormalization", "x", "g1", "be1", "h"));
    g.nodes().add(Node.of("/a/MatMul", "MatMul", List.of("h", "Wa"), List.of("a0")));
    g.nodes().add(Node.of("/a/Add", "Add", List.of("a0", "ba"), List.of("a")));
    g.nodes().add(Node.of("/b/MatMul", "MatMul", List.of("h", "Wb"), List.of("b")));
    g.nodes().add(Node.of("/mul", "Mul", List.of("a", "b"), List.of("mm")));
    g.nodes().add(Node.of("/o/MatMul", "MatMul", List.of("mm", "Wo"), List.of("o0")));
    g.nodes().add(Node.of("/o/Add", "Add", List.of("o0", "bo"), List.of("o")));
    g.nodes().add(Node.of("/res/Add", "Add", List.of("o", "h"), List.of("res")));
    g.nodes().add(ln("/ln2/LayerNormalization", "res", "g2", "be2", "h2"));
    g.nodes().add(Node.of("/c/MatMul", "MatMul", List.of("h2", "Wc"), List.of("y")));
    return m;
  }

  static ModelGraph chain(long seed) {
    Graph g = new Graph("chain");
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    Random r = new Random(seed);
    g.inputs().add(input("x", 2, D));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    g.putInitializer(gaussian("W1", r, 0.1f, 0f, D, H));
    g.putInitializer(gaussian("b1", r, 0.1f, 0f, H));
    g.putInitializer(gaussian("W2", r, 0.1f, 0f, H, D));
    g.nodes().add(Node.of("/fc1/MatMul", "MatMul", List.of("x", "W1"), List.of("h0")));
    g.nodes().add(Node.of("/fc1/Add", "Add", List.of("h0", "b1"), List.of("h")));
    g.nodes().add(Node.of("/fc2/MatMul", "MatMul", List.of("h", "W2"), List.of("y")));
    return m;
  }

  private static Node ln(String name, String x, String gamma, String beta, String y) {
    return Node.of(name, "LayerNormalization", List.of(x, gamma, beta), List.of(y))
        .put(Attribute.of("axis", -1L))
        .put(Attribute.of("epsilon", 1e-5f));
  }

  private static ValueInfo input(String name, int rank, int d) {
    List<ValueInfo.Dim> dims = new ArrayList<>();
    for (int i = 0; i < rank - 1; i++) {
      dims.add(ValueInfo.Dim.of("n" + i));
    }
    dims.add(ValueInfo.Dim.of(d));
    return ValueInfo.tensor(name, DataType.FLOAT, dims);
  }

  static Tensor gaussian(String name, Random r, float std, float mean, long... shape) {
    float[] v = new float[(int) Tensor.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = mean + (float) r.nextGaussian() * std;
    }
    return Tensor.ofFloats(name, shape, v);
  }

  /**
   * Inputs with heavy-tailed channels: channel {@code j} scaled by {@code 1 + 15 * [j % 9 == 0]},
   * so a few input channels dominate, as in LLM activations.
   */
  static Tensor activations(long seed, long... shape) {
    Random r = new Random(seed);
    int d = (int) shape[shape.length - 1];
    float[] v = new float[(int) Tensor.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian() * ((i % d) % 9 == 0 ? 16f : 1f);
    }
    return Tensor.ofFloats("x", shape, v);
  }

  static CalibrationSet calibration(int batches, long... shape) {
    List<Map<String, Tensor>> b = new ArrayList<>();
    for (int i = 0; i < batches; i++) {
      b.add(Map.of("x", activations(100 + i, shape)));
    }
    return new CalibrationSet(
        b, new CalibrationIdentity("synthetic", "tensors", batches, 0, 0, false, "0"));
  }
}
