package dev.compress.api.canonical;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.graph.ValueInfo.Dim;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Hand-built graphs holding the decomposed LayerNorm and GELU patterns as exporters write them,
 * with switches for each accepted variation. Shared by the pattern tests here and the ONNX Runtime
 * equivalence test in the runtime module, which builds its own copy of the plain variants.
 */
public final class PatternGraphs {
  /** Hidden width of the test graphs. */
  public static final int C = 8;

  private PatternGraphs() {}

  /** Variations of the decomposed LayerNorm. */
  public record LnOptions(
      boolean constantsAsInitializers,
      boolean swapOperands,
      boolean axesAsInput,
      boolean castBeforePow,
      boolean duplicateSub,
      boolean withBeta,
      boolean mixedPrecision) {
    /** The PyTorch 1.13-2.x export at opset 14: Constant nodes, axes attribute. */
    public static LnOptions plain() {
      return new LnOptions(false, false, false, false, false, true, false);
    }
  }

  /** A model with one graph input {@code x[2, 3, C]} f32, a LayerNorm, output {@code y}. */
  public static ModelGraph layerNorm(String scope, LnOptions o, long opset) {
    Graph g = new Graph("ln");
    DataType io = o.mixedPrecision() ? DataType.FLOAT16 : DataType.FLOAT;
    g.inputs().add(ValueInfo.tensor("x", io, List.of(Dim.of(2), Dim.of(3), Dim.of(C))));
    g.outputs().add(ValueInfo.tensor("y", io, List.of(Dim.of(2), Dim.of(3), Dim.of(C))));
    List<Node> n = g.nodes();
    String x = "x";
    if (o.mixedPrecision()) {
      n.add(cast(scope + "Cast", "x", "x32", DataType.FLOAT));
      x = "x32";
    }
    n.add(reduceMean(g, scope + "ReduceMean", x, "mean", o.axesAsInput(), scope + "axes0"));
    n.add(Node.of(scope + "Sub", "Sub", List.of(x, "mean"), List.of("d")));
    String powIn = "d";
    if (o.duplicateSub()) {
      n.add(Node.of(scope + "Sub_1", "Sub", List.of(x, "mean"), List.of("d2")));
      powIn = "d2";
    }
    if (o.castBeforePow()) {
      n.add(cast(scope + "Cast_1", powIn, "dc", DataType.FLOAT));
      powIn = "dc";
    }
    String two = constant(g, n, o, scope + "Constant", Tensor.ofFloats("two", new long[0], 2f));
    n.add(Node.of(scope + "Pow", "Pow", List.of(powIn, two), List.of("sq")));
    n.add(reduceMean(g, scope + "ReduceMean_1", "sq", "var", o.axesAsInput(), scope + "axes1"));
    String eps =
        constant(g, n, o, scope + "Constant_1", Tensor.ofFloats("eps", new long[0], 1e-5f));
    n.add(
        Node.of(
            scope + "Add",
            "Add",
            o.swapOperands() ? List.of(eps, "var") : List.of("var", eps),
            List.of("ve")));
    n.add(Node.of(scope + "Sqrt", "Sqrt", List.of("ve"), List.of("std")));
    n.add(Node.of(scope + "Div", "Div", List.of("d", "std"), List.of("norm")));
    String normed = "norm";
    if (o.mixedPrecision()) {
      n.add(cast(scope + "Cast_2", "norm", "norm16", DataType.FLOAT16));
      normed = "norm16";
    }
    Random r = new Random(7);
    float[] gv = new float[C];
    float[] bv = new float[C];
    for (int i = 0; i < C; i++) {
      gv[i] = 1 + 0.1f * (float) r.nextGaussian();
      bv[i] = 0.1f * (float) r.nextGaussian();
    }
    g.putInitializer(convert(Tensor.ofFloats("gamma", new long[] {C}, gv), io));
    g.putInitializer(convert(Tensor.ofFloats("beta", new long[] {C}, bv), io));
    String mulOut = o.withBeta() ? "scaled" : "y";
    n.add(
        Node.of(
            scope + "Mul",
            "Mul",
            o.swapOperands() ? List.of("gamma", normed) : List.of(normed, "gamma"),
            List.of(mulOut)));
    if (o.withBeta()) {
      n.add(
          Node.of(
              scope + "Add_1",
              "Add",
              o.swapOperands() ? List.of("beta", "scaled") : List.of("scaled", "beta"),
              List.of("y")));
    }
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", opset);
    return m;
  }

  /** GELU variants: where the 0.5 factor sits, and Div by sqrt(2) or Mul by 1/sqrt(2). */
  public enum HalfAt {
    /** {@code (x * e) * 0.5}: PyTorch's export. */
    AFTER,
    /** {@code (x * 0.5) * e}. */
    ON_X,
    /** {@code x * (e * 0.5)}. */
    ON_E
  }

  /** A model with input {@code x[2, C]} f32, a GELU, output {@code y}. */
  public static ModelGraph gelu(
      String scope, HalfAt half, boolean mulBySqrtHalf, boolean initializers, long opset) {
    Graph g = new Graph("gelu");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of(2), Dim.of(C))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, List.of(Dim.of(2), Dim.of(C))));
    List<Node> n = g.nodes();
    LnOptions o = new LnOptions(initializers, false, false, false, false, true, false);
    if (mulBySqrtHalf) {
      String c =
          constant(g, n, o, scope + "Constant", Tensor.ofFloats("rs2", new long[0], 0.70710677f));
      n.add(Node.of(scope + "Mul_s", "Mul", List.of(c, "x"), List.of("xs")));
    } else {
      String c =
          constant(g, n, o, scope + "Constant", Tensor.ofFloats("s2", new long[0], 1.4142135f));
      n.add(Node.of(scope + "Div", "Div", List.of("x", c), List.of("xs")));
    }
    n.add(Node.of(scope + "Erf", "Erf", List.of("xs"), List.of("erf")));
    String one = constant(g, n, o, scope + "Constant_1", Tensor.ofFloats("one", new long[0], 1f));
    n.add(Node.of(scope + "Add", "Add", List.of(one, "erf"), List.of("e")));
    String h = constant(g, n, o, scope + "Constant_2", Tensor.ofFloats("half", new long[0], 0.5f));
    switch (half) {
      case AFTER -> {
        n.add(Node.of(scope + "Mul", "Mul", List.of("x", "e"), List.of("xe")));
        n.add(Node.of(scope + "Mul_1", "Mul", List.of("xe", h), List.of("y")));
      }
      case ON_X -> {
        n.add(Node.of(scope + "Mul", "Mul", List.of(h, "x"), List.of("xh")));
        n.add(Node.of(scope + "Mul_1", "Mul", List.of("e", "xh"), List.of("y")));
      }
      case ON_E -> {
        n.add(Node.of(scope + "Mul", "Mul", List.of("e", h), List.of("eh")));
        n.add(Node.of(scope + "Mul_1", "Mul", List.of("x", "eh"), List.of("y")));
      }
    }
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", opset);
    return m;
  }

  private static Node reduceMean(
      Graph g, String name, String in, String out, boolean axesAsInput, String axesName) {
    if (axesAsInput) {
      g.putInitializer(Tensor.ofLongs(axesName, new long[] {1}, -1));
      return Node.of(name, "ReduceMean", List.of(in, axesName), List.of(out));
    }
    return Node.of(name, "ReduceMean", List.of(in), List.of(out)).put(Attribute.ofInts("axes", -1));
  }

  private static Node cast(String name, String in, String out, DataType to) {
    return Node.of(name, "Cast", List.of(in), List.of(out))
        .put(Attribute.of("to", (long) to.onnxCode()));
  }

  /** Adds {@code t} as an initializer or a Constant node; returns the value name. */
  private static String constant(
      Graph g, List<Node> nodes, LnOptions o, String nodeName, Tensor t) {
    String value = nodeName.replace('/', '_') + "_output_0";
    if (o.constantsAsInitializers()) {
      g.putInitializer(t.withName(value));
    } else {
      nodes.add(
          Node.of(nodeName, "Constant", List.of(), List.of(value))
              .put(Attribute.of("value", t.withName(""))));
    }
    return value;
  }

  /** {@code t} in element type {@code to} (FLOAT or FLOAT16). */
  static Tensor convert(Tensor t, DataType to) {
    if (to == DataType.FLOAT) {
      return t;
    }
    float[] v = t.toFloatArray();
    ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putShort(Float.floatToFloat16(f));
    }
    b.flip();
    return Tensor.of(t.name(), DataType.FLOAT16, t.shape(), b);
  }

  /** Names of all nodes in order. */
  static List<String> names(Graph g) {
    List<String> l = new ArrayList<>();
    g.nodes().forEach(x -> l.add(x.name()));
    return l;
  }
}
