package dev.compress.calibration.blocks;

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
import java.util.SplittableRandom;

/**
 * A seeded stack of residual blocks, {@code x [b, t, d]} in: block {@code i} computes {@code h +
 * Relu(h Wq + h Wk) Wo * 0.5 * mask}, with q and k reading the same input, a shared {@code
 * Constant} and the float mask computed once before the first block (live across every block
 * boundary).
 */
final class StackedBlocks {
  static final String PATTERN = "^/layer\\.(\\d+)";

  private StackedBlocks() {}

  static ModelGraph build(int blocks, int d, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Graph g = new Graph("stack");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, null));
    g.inputs().add(ValueInfo.tensor("attention_mask", DataType.INT64, null));
    g.putInitializer(Tensor.ofLongs("axes", new long[] {1}, -1));
    Node half = Node.of("/half", "Constant", List.of(), List.of("half"));
    half.put(Attribute.of("value", Tensor.ofFloats("half", new long[] {}, 0.5f)));
    g.nodes().add(half);
    Node cast = Node.of("/mask/Cast", "Cast", List.of("attention_mask"), List.of("maskf"));
    cast.put(Attribute.of("to", (long) DataType.FLOAT.onnxCode()));
    g.nodes().add(cast);
    g.nodes().add(Node.of("/mask/Unsqueeze", "Unsqueeze", List.of("maskf", "axes"), List.of("m")));
    String h = "x";
    for (int i = 0; i < blocks; i++) {
      String p = "/layer." + i;
      for (String w : List.of("q", "k", "o")) {
        g.putInitializer(weight(p + "/" + w + ".weight", d, rnd));
      }
      g.nodes().add(mm(p + "/q/MatMul", h, p + "/q.weight", p + "/q"));
      g.nodes().add(mm(p + "/k/MatMul", h, p + "/k.weight", p + "/k"));
      g.nodes().add(Node.of(p + "/Add", "Add", List.of(p + "/q", p + "/k"), List.of(p + "/a")));
      g.nodes().add(Node.of(p + "/Relu", "Relu", List.of(p + "/a"), List.of(p + "/r")));
      g.nodes().add(mm(p + "/o/MatMul", p + "/r", p + "/o.weight", p + "/o"));
      g.nodes().add(Node.of(p + "/Half", "Mul", List.of(p + "/o", "half"), List.of(p + "/oh")));
      g.nodes().add(Node.of(p + "/Mask", "Mul", List.of(p + "/oh", "m"), List.of(p + "/om")));
      g.nodes().add(Node.of(p + "/Residual", "Add", List.of(h, p + "/om"), List.of(p + "/h")));
      h = p + "/h";
    }
    g.outputs().add(ValueInfo.tensor(h, DataType.FLOAT, null));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    return m;
  }

  private static Node mm(String name, String x, String w, String y) {
    return Node.of(name, "MatMul", List.of(x, w), List.of(y));
  }

  private static Tensor weight(String name, int d, SplittableRandom rnd) {
    float[] v = new float[d * d];
    double s = 1.0 / Math.sqrt(d);
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (gaussian(rnd) * s);
    }
    return Tensor.ofFloats(name, new long[] {d, d}, v);
  }

  private static double gaussian(SplittableRandom rnd) {
    double u = 1 - rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
  }

  /**
   * {@code batches} batches of {@code b} sequences of {@code t} tokens; sequence {@code j} of a
   * batch has its last {@code j} tokens padded.
   */
  static CalibrationSet calibration(int batches, int b, int t, int d, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<Map<String, Tensor>> out = new ArrayList<>();
    for (int k = 0; k < batches; k++) {
      float[] x = new float[b * t * d];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) gaussian(rnd);
      }
      long[] mask = new long[b * t];
      for (int s = 0; s < b; s++) {
        for (int j = 0; j < t; j++) {
          mask[s * t + j] = j < t - Math.min(s, t - 1) ? 1 : 0;
        }
      }
      out.add(
          Map.of(
              "x", Tensor.ofFloats("x", new long[] {b, t, d}, x),
              "attention_mask", Tensor.ofLongs("attention_mask", new long[] {b, t}, mask)));
    }
    return new CalibrationSet(
        out, new CalibrationIdentity("stacked", "tensor", batches * b, t, seed, false, ""));
  }
}
