package dev.compress.runtime.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.compress.api.UnsupportedModelException;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;

/**
 * Elementwise arithmetic, comparisons, activations without parameters, casts, matrix products,
 * reductions and softmax. Binary operators broadcast as ONNX (numpy) does.
 */
final class MathOps {
  private MathOps() {}

  static void register() {
    binary("Add", NDArray::add);
    binary("Sub", NDArray::sub);
    binary("Mul", NDArray::mul);
    binary("Div", MathOps::div);
    binary("Pow", MathOps::pow);
    binary("Equal", NDArray::eq);
    binary("Less", NDArray::lt);
    binary("LessOrEqual", NDArray::lte);
    binary("Greater", NDArray::gt);
    binary("GreaterOrEqual", NDArray::gte);
    binary("And", NDArray::logicalAnd);
    binary("Or", NDArray::logicalOr);
    binary("Xor", NDArray::logicalXor);
    variadic("Sum", NDArray::add, false);
    variadic("Mean", NDArray::add, true);
    variadic("Max", NDArray::maximum, false);
    variadic("Min", NDArray::minimum, false);

    unary("Neg", NDArray::neg);
    unary("Abs", NDArray::abs);
    unary("Exp", NDArray::exp);
    unary("Log", NDArray::log);
    unary("Sqrt", NDArray::sqrt);
    unary("Reciprocal", x -> x.onesLike().div(x));
    unary("Floor", NDArray::floor);
    unary("Ceil", NDArray::ceil);
    unary("Round", NDArray::round); // half to even in both ONNX and PyTorch
    unary("Sign", NDArray::sign);
    unary("Sin", NDArray::sin);
    unary("Cos", NDArray::cos);
    unary("Tanh", NDArray::tanh);
    unary("Erf", NDArray::erf);
    unary("Not", NDArray::logicalNot);
    unary("Relu", x -> x.getNDArrayInternal().relu());
    unary("Sigmoid", x -> x.getNDArrayInternal().sigmoid());

    OpRegistry.register("Cast", MathOps::cast);
    OpRegistry.register("Where", n -> single(n, (in, m) -> where(in[0], in[1], in[2])));
    OpRegistry.register("Clip", MathOps::clip);
    OpRegistry.register("MatMul", n -> single(n, (in, m) -> in[0].matMul(in[1])));
    OpRegistry.register("Gemm", MathOps::gemm);
    OpRegistry.register("Softmax", n -> softmax(n, false));
    OpRegistry.register("LogSoftmax", n -> softmax(n, true));
    OpRegistry.register("ReduceSum", n -> reduce(n, Reduction.SUM));
    OpRegistry.register("ReduceMean", n -> reduce(n, Reduction.MEAN));
    OpRegistry.register("ReduceMax", n -> reduce(n, Reduction.MAX));
    OpRegistry.register("ReduceMin", n -> reduce(n, Reduction.MIN));
  }

  /** A kernel with one output computed from the inputs. */
  interface SingleOutput {
    NDArray apply(NDArray[] in, NDManager m) throws UnsupportedModelException;
  }

  /** Wraps a one-output computation, rejecting extra requested outputs. */
  static Kernel single(OpNode n, SingleOutput f) throws UnsupportedModelException {
    n.requireAtMostOutputs(1, "the operator has one output");
    return (in, m) -> new NDArray[] {f.apply(in, m)};
  }

  private static void binary(String op, BinaryOperator<NDArray> f) {
    OpRegistry.register(op, n -> single(n, (in, m) -> f.apply(in[0], in[1])));
  }

  private static void unary(String op, UnaryOperator<NDArray> f) {
    OpRegistry.register(op, n -> single(n, (in, m) -> f.apply(in[0])));
  }

  private static void variadic(String op, BinaryOperator<NDArray> f, boolean mean) {
    OpRegistry.register(
        op,
        n ->
            single(
                n,
                (in, m) -> {
                  NDArray acc = in[0];
                  for (int i = 1; i < in.length; i++) {
                    acc = f.apply(acc, in[i]);
                  }
                  return mean ? acc.div(in.length) : acc;
                }));
  }

  /** ONNX Div: integer division truncates toward zero (PyTorch's would return floats). */
  static NDArray div(NDArray a, NDArray b) {
    if (!Nd.isInteger(a.getDataType())) {
      return a.div(b);
    }
    // Exact for |values| < 2^53, which covers shape arithmetic.
    return a.toType(DataType.FLOAT64, false)
        .div(b.toType(DataType.FLOAT64, false))
        .trunc()
        .toType(a.getDataType(), false);
  }

  /** ONNX Pow: the result has the base's type whatever the exponent's type. */
  static NDArray pow(NDArray a, NDArray b) {
    NDArray r = a.pow(b);
    return r.getDataType() == a.getDataType() ? r : r.toType(a.getDataType(), false);
  }

  static NDArray where(NDArray cond, NDArray x, NDArray y) {
    NDArray c =
        cond.getDataType() == DataType.BOOLEAN ? cond : cond.toType(DataType.BOOLEAN, false);
    // ONNX broadcasts all three operands; DJL's where needs the condition in the result's shape.
    Shape s = new Shape(Nd.broadcast(Nd.broadcast(Nd.dims(c), Nd.dims(x)), Nd.dims(y)));
    return NDArrays.where(expand(c, s), expand(x, s), expand(y, s));
  }

  private static NDArray expand(NDArray a, Shape s) {
    return a.getShape().equals(s) ? a : a.broadcast(s);
  }

  private static Kernel cast(OpNode n) throws UnsupportedModelException {
    long code = n.intAttr("to", -1);
    dev.compress.api.tensor.DataType apiType =
        dev.compress.api.tensor.DataType.fromOnnx((int) code)
            .orElseThrow(() -> n.unsupported("unknown element type code to=" + code));
    DataType to =
        NdConvert.toDjl(apiType)
            .orElseThrow(() -> n.unsupported("casting to " + apiType + " is not supported"));
    return single(n, (in, m) -> in[0].toType(to, false));
  }

  private static Kernel clip(OpNode n) throws UnsupportedModelException {
    // Bounds: attributes before opset 11, optional inputs 1 and 2 after; absent means unbounded.
    boolean fromAttributes = n.opset() < 11;
    Double minAttr = n.node().attribute("min").map(a -> (double) a.asFloat()).orElse(null);
    Double maxAttr = n.node().attribute("max").map(a -> (double) a.asFloat()).orElse(null);
    return single(
        n,
        (in, m) -> {
          NDArray x = in[0];
          Double lo = fromAttributes ? minAttr : optionalScalar(in, 1);
          Double hi = fromAttributes ? maxAttr : optionalScalar(in, 2);
          if (lo != null && hi != null) {
            return x.clip(lo, hi);
          }
          if (lo != null) {
            return x.maximum(lo);
          }
          if (hi != null) {
            return x.minimum(hi);
          }
          return x.duplicate();
        });
  }

  private static Double optionalScalar(NDArray[] in, int i) {
    return in.length > i && in[i] != null ? Nd.scalar(in[i]) : null;
  }

  private static Kernel gemm(OpNode n) throws UnsupportedModelException {
    float alpha = n.floatAttr("alpha", 1f);
    float beta = n.floatAttr("beta", 1f);
    boolean transA = n.intAttr("transA", 0) != 0;
    boolean transB = n.intAttr("transB", 0) != 0;
    return single(
        n,
        (in, m) -> {
          NDArray a = transA ? in[0].transpose() : in[0]; // (M, K)
          NDArray b = transB ? in[1].transpose() : in[1]; // (K, N)
          NDArray y = a.matMul(b); // (M, N)
          if (alpha != 1f) {
            y = y.mul(alpha);
          }
          if (in.length > 2 && in[2] != null && beta != 0f) {
            y = y.add(beta == 1f ? in[2] : in[2].mul(beta));
          }
          return y;
        });
  }

  private static Kernel softmax(OpNode n, boolean log) throws UnsupportedModelException {
    boolean legacy = n.opset() < 13;
    long axisAttr = n.intAttr("axis", legacy ? 1 : -1);
    return single(
        n,
        (in, m) -> {
          NDArray x = in[0];
          long[] d = Nd.dims(x);
          int axis = Nd.axis(axisAttr, d.length);
          if (!legacy || axis == d.length - 1) {
            return log ? x.logSoftmax(axis) : x.softmax(axis);
          }
          // Before opset 13 the input is seen as 2-D: (prod(d[:axis]), prod(d[axis:])).
          NDArray flat = x.reshape(Nd.product(d, 0, axis), Nd.product(d, axis, d.length));
          NDArray y = log ? flat.logSoftmax(1) : flat.softmax(1);
          return y.reshape(new Shape(d));
        });
  }

  private enum Reduction {
    SUM,
    MEAN,
    MAX,
    MIN
  }

  private static Kernel reduce(OpNode n, Reduction r) throws UnsupportedModelException {
    // The axes moved from an attribute to an input in opset 13 (ReduceSum) or 18 (the others).
    boolean axesFromInput = n.opset() >= (r == Reduction.SUM ? 13 : 18);
    long[] axesAttr = n.intsAttr("axes", null);
    boolean keep = n.intAttr("keepdims", 1) != 0;
    boolean noopWithEmptyAxes = n.intAttr("noop_with_empty_axes", 0) != 0;
    return single(
        n,
        (in, m) -> {
          NDArray x = in[0];
          int rank = x.getShape().dimension();
          long[] axes =
              axesFromInput ? (in.length > 1 && in[1] != null ? Nd.longs(in[1]) : null) : axesAttr;
          if (axes == null || axes.length == 0) {
            if (noopWithEmptyAxes) {
              return x.duplicate();
            }
            axes = new long[rank];
            for (int i = 0; i < rank; i++) {
              axes[i] = i;
            }
          }
          int[] ax = Nd.axes(axes, rank);
          return reduce(x, ax, keep, r);
        });
  }

  private static NDArray reduce(NDArray x, int[] axes, boolean keep, Reduction r) {
    if (r == Reduction.SUM) {
      return x.sum(axes, keep);
    }
    // PyTorch's DJL binding reduces one axis at a time for these; go from the last axis so the
    // indices of the remaining ones stay valid.
    NDArray y = x;
    for (int i = axes.length - 1; i >= 0; i--) {
      y =
          switch (r) {
            case MEAN -> y.mean(new int[] {axes[i]}, true);
            case MAX -> y.max(new int[] {axes[i]}, true);
            case MIN -> y.min(new int[] {axes[i]}, true);
            case SUM -> throw new AssertionError();
          };
    }
    if (!keep) {
      y = y.squeeze(axes);
    }
    return y == x ? x.duplicate() : y;
  }
}
