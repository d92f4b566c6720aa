package dev.compress.runtime.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import dev.compress.training.GradientRecording;
import dev.compress.training.Parameter;
import dev.compress.training.ParameterSelection;
import dev.compress.training.TensorNd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Gradients of the trainable interpreter against central finite differences, one small float64
 * graph per operator the interpreter trains through. Each graph computes {@code h = x * P0} (P0 a
 * parameter, so the gradient also flows through the operator's data input), then the operator on
 * {@code h} and further parameters. Loss {@code L = sum_outputs sum(y * R)} with fixed random
 * {@code R}; for every parameter and two random directions {@code v}, {@code <dL/dp, v>} must match
 * {@code (L(p + eps v) - L(p - eps v)) / 2 eps} (eps 1e-6) to 1e-6 relative.
 */
class DjlGradientCheckTest {

  /** Ops covered here; {@link #everyDifferentiableOpIsChecked} holds them against the list. */
  static final Set<String> COVERED = new LinkedHashSet<>();

  record Case(
      String name,
      long opset,
      long[] xShape,
      long[] p0Shape,
      UnaryOperator<TestGraphs> op,
      List<String> outs) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Tensor dt(String name, long seed, double lo, double hi, long... shape) {
    int n = (int) Tensor.elementCount(shape);
    Random r = new Random(seed);
    ByteBuffer b = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putDouble(lo + (hi - lo) * r.nextDouble());
    }
    b.flip();
    return Tensor.of(name, DataType.DOUBLE, shape, b);
  }

  static Tensor dt(String name, long seed, long... shape) {
    return dt(name, seed, -1, 1, shape);
  }

  static Tensor scalar(String name, double v) {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(v);
    b.flip();
    return Tensor.of(name, DataType.DOUBLE, new long[] {}, b);
  }

  static Tensor longs(String name, long... v) {
    return Tensor.ofLongs(name, new long[] {v.length}, v);
  }

  static final long[] X = {2, 3, 4};

  static Case c(String name, UnaryOperator<TestGraphs> op, String... covers) {
    return c(name, 17, X, X, op, covers);
  }

  static Case c(
      String name,
      long opset,
      long[] x,
      long[] p0,
      UnaryOperator<TestGraphs> op,
      String... covers) {
    COVERED.addAll(List.of(covers.length == 0 ? new String[] {name} : covers));
    return new Case(name, opset, x, p0, op, List.of("y"));
  }

  static Case unary(String op) {
    return c(op, b -> b.node(op, List.of("h"), List.of("y")));
  }

  static Case positiveUnary(String op) {
    // y = op(h*h + 0.5): a positive argument for Log, Sqrt, Reciprocal.
    return c(
        op,
        b ->
            b.init(scalar("half", 0.5))
                .node("Mul", List.of("h", "h"), List.of("hh"))
                .node("Add", List.of("hh", "half"), List.of("hp"))
                .node(op, List.of("hp"), List.of("y")));
  }

  static Stream<Case> cases() {
    List<Case> l = new ArrayList<>();
    l.add(
        c(
            "MatMul",
            b -> b.init(dt("w", 11, 4, 5)).node("MatMul", List.of("h", "w"), List.of("y"))));
    l.add(
        c(
            "Gemm",
            b ->
                b.init(Tensor.ofLongs("s", new long[] {2}, 6, 4))
                    .init(dt("w", 12, 5, 4))
                    .init(dt("bias", 13, 5))
                    .node("Reshape", List.of("h", "s"), List.of("h2"))
                    .node(
                        "Gemm",
                        List.of("h2", "w", "bias"),
                        List.of("y"),
                        Attribute.of("transB", 1L),
                        Attribute.of("alpha", 0.7f),
                        Attribute.of("beta", 1.3f)),
            "Gemm",
            "Reshape"));
    l.add(c("Add", b -> b.init(dt("w", 14, 4)).node("Add", List.of("h", "w"), List.of("y"))));
    l.add(c("Sub", b -> b.init(dt("w", 15, 3, 1)).node("Sub", List.of("w", "h"), List.of("y"))));
    l.add(c("Mul", b -> b.init(dt("w", 16, 4)).node("Mul", List.of("h", "w"), List.of("y"))));
    l.add(
        c("Div", b -> b.init(dt("w", 17, 1.5, 2, 4)).node("Div", List.of("h", "w"), List.of("y"))));
    l.add(
        c(
            "Pow",
            b ->
                b.init(dt("w", 18, 1.2, 2, 2, 3, 4)).node("Pow", List.of("w", "h"), List.of("y"))));
    l.add(
        c(
            "LayerNormalization",
            b ->
                b.init(dt("g", 19, 4))
                    .init(dt("beta", 20, 4))
                    .node(
                        "LayerNormalization",
                        List.of("h", "g", "beta"),
                        List.of("y"),
                        Attribute.of("epsilon", 1e-5f))));
    l.add(
        c(
            "decomposed LayerNorm",
            b ->
                b.init(scalar("two", 2))
                    .init(scalar("eps", 1e-5))
                    .init(dt("g", 21, 4))
                    .init(dt("beta", 22, 4))
                    .node("ReduceMean", List.of("h"), List.of("mu"), Attribute.ofInts("axes", -1))
                    .node("Sub", List.of("h", "mu"), List.of("d"))
                    .node("Pow", List.of("d", "two"), List.of("d2"))
                    .node("ReduceMean", List.of("d2"), List.of("var"), Attribute.ofInts("axes", -1))
                    .node("Add", List.of("var", "eps"), List.of("ve"))
                    .node("Sqrt", List.of("ve"), List.of("sd"))
                    .node("Div", List.of("d", "sd"), List.of("n"))
                    .node("Mul", List.of("n", "g"), List.of("s"))
                    .node("Add", List.of("s", "beta"), List.of("y")),
            "ReduceMean",
            "Sqrt"));
    l.add(
        c(
            "decomposed erf Gelu",
            b ->
                b.init(scalar("sqrt2", Math.sqrt(2)))
                    .init(scalar("one", 1))
                    .init(scalar("half", 0.5))
                    .node("Div", List.of("h", "sqrt2"), List.of("a"))
                    .node("Erf", List.of("a"), List.of("e"))
                    .node("Add", List.of("e", "one"), List.of("e1"))
                    .node("Mul", List.of("h", "e1"), List.of("m"))
                    .node("Mul", List.of("m", "half"), List.of("y")),
            "Erf"));
    l.add(c("Gelu", 20, X, X, b -> b.node("Gelu", List.of("h"), List.of("y"))));
    l.add(
        c(
            "Gelu tanh",
            20,
            X,
            X,
            b -> b.node("Gelu", List.of("h"), List.of("y"), Attribute.of("approximate", "tanh")),
            "Gelu"));
    l.add(
        c(
            "com.microsoft::Gelu",
            b ->
                b.domain("com.microsoft", 1)
                    .node("com.microsoft", "Gelu", List.of("h"), List.of("y"))));
    l.add(
        c(
            "com.microsoft::FastGelu",
            b ->
                b.domain("com.microsoft", 1)
                    .init(dt("bias", 23, 4))
                    .node("com.microsoft", "FastGelu", List.of("h", "bias"), List.of("y"))));
    l.add(
        c(
            "com.microsoft::BiasGelu",
            b ->
                b.domain("com.microsoft", 1)
                    .init(dt("bias", 24, 4))
                    .node("com.microsoft", "BiasGelu", List.of("h", "bias"), List.of("y"))));
    l.add(
        c(
            "Softmax",
            b -> b.node("Softmax", List.of("h"), List.of("y"), Attribute.of("axis", -1L))));
    l.add(
        c(
            "LogSoftmax",
            b -> b.node("LogSoftmax", List.of("h"), List.of("y"), Attribute.of("axis", 1L))));
    l.add(
        c(
            "Transpose",
            b ->
                b.node(
                    "Transpose", List.of("h"), List.of("y"), Attribute.ofInts("perm", 2, 0, 1))));
    l.add(
        c(
            "Gather",
            b ->
                b.init(dt("emb", 25, 5, 4))
                    .init(Tensor.ofLongs("idx", new long[] {2, 3}, 0, 4, 2, 2, 1, 3))
                    .node("Gather", List.of("emb", "idx"), List.of("g"), Attribute.of("axis", 0L))
                    .node("Add", List.of("g", "h"), List.of("y"))));
    l.add(
        c(
            "Slice",
            b ->
                b.init(longs("st", 0, 1))
                    .init(longs("en", 2, 3))
                    .init(longs("ax", 1, 2))
                    .node("Slice", List.of("h", "st", "en", "ax"), List.of("y"))));
    l.add(
        c(
            "Concat",
            b ->
                b.init(dt("w", 26, 2, 3, 2))
                    .node("Concat", List.of("h", "w"), List.of("y"), Attribute.of("axis", -1L))));
    l.add(
        new Case(
            "Split",
            17,
            X,
            X,
            b ->
                b.init(longs("sp", 1, 3))
                    .node("Split", List.of("h", "sp"), List.of("y", "y2"), Attribute.of("axis", 2L))
                    .output("y2", DataType.DOUBLE),
            List.of("y", "y2")));
    COVERED.add("Split");
    l.add(
        c(
            "Unsqueeze+Squeeze",
            b ->
                b.init(longs("a0", 0))
                    .node("Unsqueeze", List.of("h", "a0"), List.of("u"))
                    .node("Squeeze", List.of("u", "a0"), List.of("y")),
            "Unsqueeze",
            "Squeeze"));
    l.add(
        c(
            "Expand",
            b ->
                b.init(dt("w", 27, 4))
                    .init(longs("shape", 2, 3, 4))
                    .node("Expand", List.of("w", "shape"), List.of("e"))
                    .node("Mul", List.of("e", "h"), List.of("y"))));
    l.add(
        c("Flatten", b -> b.node("Flatten", List.of("h"), List.of("y"), Attribute.of("axis", 2L))));
    for (String op :
        List.of(
            "Tanh", "Relu", "Sigmoid", "Exp", "Neg", "Abs", "Sin", "Cos", "Identity", "Dropout")) {
      l.add(unary(op));
    }
    l.add(
        c(
            "LeakyRelu",
            b -> b.node("LeakyRelu", List.of("h"), List.of("y"), Attribute.of("alpha", 0.1f))));
    for (String op : List.of("Log", "Reciprocal")) {
      l.add(positiveUnary(op));
    }
    l.add(c("Cast", b -> b.node("Cast", List.of("h"), List.of("y"), Attribute.of("to", 11L))));
    l.add(
        c(
            "ReduceSum",
            b -> b.init(longs("ax", 1)).node("ReduceSum", List.of("h", "ax"), List.of("y"))));
    l.add(
        c(
            "ReduceMax",
            b -> b.node("ReduceMax", List.of("h"), List.of("y"), Attribute.ofInts("axes", 2))));
    l.add(
        c(
            "ReduceMin",
            b -> b.node("ReduceMin", List.of("h"), List.of("y"), Attribute.ofInts("axes", 0))));
    l.add(
        c(
            "Where",
            b ->
                b.init(
                        Tensor.ofBytes(
                            "cond",
                            DataType.BOOL,
                            new long[] {4},
                            (byte) 1,
                            (byte) 0,
                            (byte) 1,
                            (byte) 0))
                    .init(dt("w", 28, 2, 3, 4))
                    .node("Where", List.of("cond", "h", "w"), List.of("y"))));
    l.add(
        c(
            "Clip",
            b ->
                b.init(scalar("lo", -0.3))
                    .init(scalar("hi", 0.3))
                    .node("Clip", List.of("h", "lo", "hi"), List.of("y"))));
    for (String op : List.of("Max", "Min", "Sum", "Mean")) {
      l.add(c(op, b -> b.init(dt("w", 29, 4)).node(op, List.of("h", "w"), List.of("y"))));
    }
    long[] img = {1, 2, 5, 5};
    l.add(
        c(
            "Conv",
            17,
            img,
            img,
            b ->
                b.init(dt("w", 30, 3, 2, 3, 3))
                    .init(dt("bias", 31, 3))
                    .node(
                        "Conv",
                        List.of("h", "w", "bias"),
                        List.of("y"),
                        Attribute.ofInts("pads", 1, 1, 1, 1))));
    // Conv's window attributes, each on its own: strides, dilations, groups, auto_pad, asymmetric
    // pads (padded explicitly before PyTorch's convolution), and the CNN block of the
    // Fashion-MNIST bench (Conv -> Relu -> MaxPool -> Flatten -> Gemm).
    long[] wide = {1, 4, 7, 6};
    l.add(
        c(
            "Conv strides 2, pads 1",
            17,
            wide,
            wide,
            b ->
                b.init(dt("w", 40, 3, 4, 3, 3))
                    .init(dt("bias", 41, 3))
                    .node(
                        "Conv",
                        List.of("h", "w", "bias"),
                        List.of("y"),
                        Attribute.ofInts("strides", 2, 2),
                        Attribute.ofInts("pads", 1, 1, 1, 1)),
            "Conv"));
    l.add(
        c(
            "Conv dilations 2, no bias",
            17,
            wide,
            wide,
            b ->
                b.init(dt("w", 42, 2, 4, 2, 2))
                    .node(
                        "Conv",
                        List.of("h", "w"),
                        List.of("y"),
                        Attribute.ofInts("dilations", 2, 2)),
            "Conv"));
    l.add(
        c(
            "Conv group 2, asymmetric pads",
            17,
            wide,
            wide,
            b ->
                b.init(dt("w", 43, 4, 2, 3, 2))
                    .init(dt("bias", 44, 4))
                    .node(
                        "Conv",
                        List.of("h", "w", "bias"),
                        List.of("y"),
                        Attribute.of("group", 2L),
                        Attribute.ofInts("pads", 0, 1, 2, 0)),
            "Conv"));
    l.add(
        c(
            "Conv auto_pad VALID",
            17,
            wide,
            wide,
            b ->
                b.init(dt("w", 45, 2, 4, 3, 3))
                    .node(
                        "Conv", List.of("h", "w"), List.of("y"), Attribute.of("auto_pad", "VALID")),
            "Conv"));
    l.add(
        c(
            "Conv auto_pad SAME_UPPER, strides 2",
            17,
            wide,
            wide,
            b ->
                b.init(dt("w", 46, 2, 4, 3, 3))
                    .node(
                        "Conv",
                        List.of("h", "w"),
                        List.of("y"),
                        Attribute.of("auto_pad", "SAME_UPPER"),
                        Attribute.ofInts("strides", 2, 2)),
            "Conv"));
    l.add(
        c(
            "MaxPool pads 1, strides 2",
            17,
            wide,
            wide,
            b ->
                b.node(
                    "MaxPool",
                    List.of("h"),
                    List.of("y"),
                    Attribute.ofInts("kernel_shape", 3, 3),
                    Attribute.ofInts("strides", 2, 2),
                    Attribute.ofInts("pads", 1, 1, 1, 1)),
            "MaxPool"));
    l.add(
        c(
            "AveragePool count_include_pad, ceil_mode",
            17,
            wide,
            wide,
            b ->
                b.node(
                    "AveragePool",
                    List.of("h"),
                    List.of("y"),
                    Attribute.ofInts("kernel_shape", 2, 2),
                    Attribute.ofInts("strides", 2, 2),
                    Attribute.ofInts("pads", 1, 0, 0, 1),
                    Attribute.of("count_include_pad", 1L),
                    Attribute.of("ceil_mode", 1L)),
            "AveragePool"));
    l.add(
        c(
            "CNN block Conv Relu MaxPool Flatten Gemm",
            17,
            new long[] {2, 1, 8, 8},
            new long[] {1, 1, 8, 8},
            b ->
                b.init(dt("w", 47, 3, 1, 3, 3))
                    .init(dt("bias", 48, 3))
                    .init(dt("fc", 49, 5, 48))
                    .init(dt("fcb", 50, 5))
                    .node(
                        "Conv",
                        List.of("h", "w", "bias"),
                        List.of("c"),
                        Attribute.ofInts("pads", 1, 1, 1, 1))
                    .node("Relu", List.of("c"), List.of("r"))
                    .node(
                        "MaxPool",
                        List.of("r"),
                        List.of("p"),
                        Attribute.ofInts("kernel_shape", 2, 2),
                        Attribute.ofInts("strides", 2, 2))
                    .node("Flatten", List.of("p"), List.of("f"), Attribute.of("axis", 1L))
                    .node(
                        "Gemm",
                        List.of("f", "fc", "fcb"),
                        List.of("y"),
                        Attribute.of("transB", 1L)),
            "Conv",
            "Relu",
            "MaxPool",
            "Flatten",
            "Gemm"));
    l.add(
        c(
            "MaxPool",
            17,
            img,
            img,
            b ->
                b.node(
                    "MaxPool",
                    List.of("h"),
                    List.of("y"),
                    Attribute.ofInts("kernel_shape", 2, 2),
                    Attribute.ofInts("strides", 2, 2))));
    l.add(
        c(
            "AveragePool",
            17,
            img,
            img,
            b ->
                b.node(
                    "AveragePool",
                    List.of("h"),
                    List.of("y"),
                    Attribute.ofInts("kernel_shape", 3, 3),
                    Attribute.ofInts("pads", 1, 1, 1, 1))));
    l.add(
        c(
            "GlobalAveragePool",
            17,
            img,
            img,
            b -> b.node("GlobalAveragePool", List.of("h"), List.of("y"))));
    l.add(
        c("GlobalMaxPool", 17, img, img, b -> b.node("GlobalMaxPool", List.of("h"), List.of("y"))));
    l.add(
        c(
            "BatchNormalization",
            17,
            img,
            img,
            b ->
                b.init(dt("sc", 32, 2))
                    .init(dt("bb", 33, 2))
                    .init(dt("mean", 34, 2))
                    .init(dt("var", 35, 0.5, 1.5, 2))
                    .node(
                        "BatchNormalization",
                        List.of("h", "sc", "bb", "mean", "var"),
                        List.of("y"))));
    l.add(
        c(
            "com.microsoft::SkipLayerNormalization",
            b ->
                b.domain("com.microsoft", 1)
                    .init(dt("skip", 36, 2, 3, 4))
                    .init(dt("g", 37, 4))
                    .init(dt("beta", 38, 4))
                    .node(
                        "com.microsoft",
                        "SkipLayerNormalization",
                        List.of("h", "skip", "g", "beta"),
                        List.of("y"))));
    l.add(
        c(
            "SimplifiedLayerNormalization",
            b ->
                b.init(dt("g", 39, 4))
                    .node("SimplifiedLayerNormalization", List.of("h", "g"), List.of("y"))));
    return l.stream();
  }

  static ModelGraph build(Case k) {
    TestGraphs b =
        TestGraphs.opset(k.opset())
            .input("x", DataType.DOUBLE, k.xShape())
            .init(dt("p0", 1, 0.5, 1.5, k.p0Shape()))
            .node("Mul", List.of("x", "p0"), List.of("h"));
    return k.op().apply(b).output("y", DataType.DOUBLE).build();
  }

  static double loss(Map<String, NDArray> out, List<String> outs, Map<String, NDArray> r) {
    double s = 0;
    for (String o : outs) {
      s += out.get(o).mul(r.get(o)).sum().getDouble();
    }
    return s;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void gradientsMatchFiniteDifferences(Case k) throws Exception {
    ModelGraph g = build(k);
    try (DjlTrainableModel m = DjlTrainableModel.create(g, ParameterSelection.all(), Device.CPU);
        NDManager nd = m.newManager()) {
      NDArray x = TensorNd.toNd(dt("x", 2, k.xShape()), nd);
      Map<String, NDArray> r = new java.util.HashMap<>();
      Map<String, NDArray> first;
      try (GradientRecording rec = m.recordGradients()) {
        first = m.forward(nd, Map.of("x", x));
        NDArray l = null;
        long seed = 3;
        for (String o : k.outs()) {
          NDArray ro = TensorNd.toNd(dt("r", seed++, first.get(o).getShape().getShape()), nd);
          r.put(o, ro);
          NDArray t = first.get(o).mul(ro).sum();
          l = l == null ? t : l.add(t);
        }
        rec.backward(l);
      }
      assertThat(m.parameters()).isNotEmpty();
      double eps = 1e-6;
      Random dirs = new Random(5);
      for (Parameter p : m.parameters()) {
        double[] grad = p.gradient().toDoubleArray();
        assertThat(java.util.Arrays.stream(grad).map(Math::abs).sum())
            .as(k + ": gradient of " + p.name() + " is not all zero")
            .isGreaterThan(0);
        for (int d = 0; d < 2; d++) {
          double[] v = new double[grad.length];
          double ad = 0;
          for (int i = 0; i < v.length; i++) {
            v[i] = dirs.nextGaussian();
            ad += grad[i] * v[i];
          }
          NDArray dir = nd.create(v, p.value().getShape()).mul(eps);
          p.update(a -> a.addi(dir));
          double plus = loss(m.forward(nd, Map.of("x", x)), k.outs(), r);
          p.update(a -> a.subi(dir.mul(2)));
          double minus = loss(m.forward(nd, Map.of("x", x)), k.outs(), r);
          p.update(a -> a.addi(dir));
          double fd = (plus - minus) / (2 * eps);
          System.out.printf(
              "[grad-check] %-38s %-5s dir %d  ad %+.9f  fd %+.9f  |diff| %.2e%n",
              k, p.name(), d, ad, fd, Math.abs(ad - fd));
          assertThat(Math.abs(ad - fd))
              .as(
                  k
                      + ": d/d"
                      + p.name()
                      + " along direction "
                      + d
                      + " (ad "
                      + ad
                      + ", fd "
                      + fd
                      + ")")
              .isLessThanOrEqualTo(1e-6 * Math.max(1, Math.abs(ad)));
        }
      }
    }
  }

  @org.junit.jupiter.api.Test
  void everyDifferentiableOpIsChecked() {
    cases().count(); // fills COVERED
    Set<String> missing = new java.util.TreeSet<>(Differentiable.THROUGH);
    missing.removeAll(COVERED);
    // RMSNormalization (opset 23) and the skip-simplified norm share the kernels checked above.
    missing.removeAll(
        Set.of("RMSNormalization", "com.microsoft::SkipSimplifiedLayerNormalization"));
    // FakeQuantize's gradient is the straight-through estimator by design, not the derivative
    // finite differences measure; quantization's FakeQuantizeGradientTest checks it against the
    // STE and LSQ formulas.
    missing.remove(dev.compress.training.quant.FakeQuantizeOp.QUALIFIED);
    assertThat(missing).as("differentiable ops without a gradient check").isEmpty();
  }
}
