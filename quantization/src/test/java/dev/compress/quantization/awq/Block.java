package dev.compress.quantization.awq;

import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Gaussian;
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
    GraphBuilder g = GraphBuilder.create("block");
    Random r = new Random(seed);
    String x = g.input("x", DataType.FLOAT, "n0", "n1", D);
    g.output("y", DataType.FLOAT);
    String g1 = g.initializer(gaussian("g1", r, 0.3f, 1f, D));
    String be1 = g.initializer(gaussian("be1", r, 0.1f, 0f, D));
    String wa = g.initializer(gaussian("Wa", r, 0.1f, 0f, D, H));
    String ba = g.initializer(gaussian("ba", r, 0.1f, 0f, H));
    String wb = g.initializer(gaussian("Wb", r, 0.1f, 0f, D, H));
    String wo = g.initializer(gaussian("Wo", r, 0.1f, 0f, H, D));
    String bo = g.initializer(gaussian("bo", r, 0.1f, 0f, D));
    String g2 = g.initializer(gaussian("g2", r, 0.3f, 1f, D));
    String be2 = g.initializer(gaussian("be2", r, 0.1f, 0f, D));
    String wc = g.initializer(gaussian("Wc", r, 0.1f, 0f, D, D));
    String h = ln(g, "/ln1/LayerNormalization", x, g1, be1, "h");
    String a0 = g.opTo("MatMul", "/a/MatMul", List.of(h, wa), "a0");
    String a = g.opTo("Add", "/a/Add", List.of(a0, ba), "a");
    String b = g.opTo("MatMul", "/b/MatMul", List.of(h, wb), "b");
    String mm = g.opTo("Mul", "/mul", List.of(a, b), "mm");
    String o0 = g.opTo("MatMul", "/o/MatMul", List.of(mm, wo), "o0");
    String o = g.opTo("Add", "/o/Add", List.of(o0, bo), "o");
    String res = g.opTo("Add", "/res/Add", List.of(o, h), "res");
    String h2 = ln(g, "/ln2/LayerNormalization", res, g2, be2, "h2");
    g.opTo("MatMul", "/c/MatMul", List.of(h2, wc), "y");
    return g.build();
  }

  static ModelGraph chain(long seed) {
    GraphBuilder g = GraphBuilder.create("chain");
    Random r = new Random(seed);
    String x = g.input("x", DataType.FLOAT, "n0", D);
    g.output("y", DataType.FLOAT);
    String w1 = g.initializer(gaussian("W1", r, 0.1f, 0f, D, H));
    String b1 = g.initializer(gaussian("b1", r, 0.1f, 0f, H));
    String w2 = g.initializer(gaussian("W2", r, 0.1f, 0f, H, D));
    String h0 = g.opTo("MatMul", "/fc1/MatMul", List.of(x, w1), "h0");
    String h = g.opTo("Add", "/fc1/Add", List.of(h0, b1), "h");
    g.opTo("MatMul", "/fc2/MatMul", List.of(h, w2), "y");
    return g.build();
  }

  private static String ln(
      GraphBuilder g, String name, String x, String gamma, String beta, String y) {
    return g.opTo(
        "LayerNormalization",
        name,
        List.of(x, gamma, beta),
        y,
        Attribute.of("axis", -1L),
        Attribute.of("epsilon", 1e-5f));
  }

  static Tensor gaussian(String name, Random r, float std, float mean, long... shape) {
    return Gaussian.tensor(name, r, std, mean, shape);
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
