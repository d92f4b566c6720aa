package dev.compress.calibration.blocks;

import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Gaussian;
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
    GraphBuilder g = GraphBuilder.create("stack");
    String x = g.input("x", DataType.FLOAT, (List<ValueInfo.Dim>) null);
    String mask = g.input("attention_mask", DataType.INT64, (List<ValueInfo.Dim>) null);
    String axes = g.initializer(Tensor.ofLongs("axes", new long[] {1}, -1));
    String half = g.constantNode("/half", Tensor.ofFloats("half", new long[] {}, 0.5f));
    String maskf =
        g.opTo(
            "Cast",
            "/mask/Cast",
            List.of(mask),
            "maskf",
            Attribute.of("to", (long) DataType.FLOAT.onnxCode()));
    String m = g.opTo("Unsqueeze", "/mask/Unsqueeze", List.of(maskf, axes), "m");
    String h = x;
    for (int i = 0; i < blocks; i++) {
      String p = "/layer." + i;
      for (String w : List.of("q", "k", "o")) {
        g.initializer(
            Tensor.ofFloats(
                p + "/" + w + ".weight",
                new long[] {d, d},
                Gaussian.boxMuller(rnd, 1.0 / Math.sqrt(d), d * d)));
      }
      String q = g.opTo("MatMul", p + "/q/MatMul", List.of(h, p + "/q.weight"), p + "/q");
      String k = g.opTo("MatMul", p + "/k/MatMul", List.of(h, p + "/k.weight"), p + "/k");
      String a = g.opTo("Add", p + "/Add", List.of(q, k), p + "/a");
      String r = g.opTo("Relu", p + "/Relu", List.of(a), p + "/r");
      String o = g.opTo("MatMul", p + "/o/MatMul", List.of(r, p + "/o.weight"), p + "/o");
      String oh = g.opTo("Mul", p + "/Half", List.of(o, half), p + "/oh");
      String om = g.opTo("Mul", p + "/Mask", List.of(oh, m), p + "/om");
      h = g.opTo("Add", p + "/Residual", List.of(h, om), p + "/h");
    }
    g.output(h, DataType.FLOAT);
    return g.build();
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
        x[i] = (float) Gaussian.boxMuller(rnd);
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
