package dev.compress.runtime.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.graph.Attribute;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shape and indexing operators. Shape arithmetic stays exact: {@code Shape} produces int64 arrays,
 * and the shape-valued inputs of Reshape, Expand, Slice, ... are read on the host as int64.
 */
final class ShapeOps {
  private ShapeOps() {}

  static void register() {
    OpRegistry.register("Constant", ShapeOps::constantKernel);
    OpRegistry.register("Identity", n -> MathOps.single(n, (in, m) -> view(in[0])));
    OpRegistry.register("Dropout", ShapeOps::dropout);
    OpRegistry.register("Shape", ShapeOps::shapeOf);
    OpRegistry.register("Size", n -> MathOps.single(n, (in, m) -> m.create(in[0].size())));
    OpRegistry.register("Reshape", ShapeOps::reshape);
    OpRegistry.register("Flatten", ShapeOps::flatten);
    OpRegistry.register("Squeeze", ShapeOps::squeeze);
    OpRegistry.register("Unsqueeze", ShapeOps::unsqueeze);
    OpRegistry.register("Transpose", ShapeOps::transpose);
    OpRegistry.register("Concat", ShapeOps::concat);
    OpRegistry.register("Gather", ShapeOps::gather);
    OpRegistry.register("Slice", ShapeOps::slice);
    OpRegistry.register("Split", ShapeOps::split);
    OpRegistry.register("Expand", ShapeOps::expand);
    OpRegistry.register("ConstantOfShape", ShapeOps::constantOfShape);
    OpRegistry.register("Range", ShapeOps::range);
  }

  /** A new array object sharing {@code x}'s storage (so the two can be closed independently). */
  static NDArray view(NDArray x) {
    return x.reshape(x.getShape());
  }

  /**
   * The value of a {@code Constant} node, computed once at construction.
   *
   * @throws UnsupportedModelException for sparse or string constants
   */
  static Tensor constantValue(OpNode n) throws UnsupportedModelException {
    String out = n.node().output(0);
    for (Attribute a : n.node().attributes().values()) {
      switch (a.name()) {
        case "value":
          return a.asTensor().withName(out);
        case "value_float":
          return Tensor.ofFloats(out, new long[0], a.asFloat());
        case "value_floats":
          {
            float[] v = a.asFloats();
            return Tensor.ofFloats(out, new long[] {v.length}, v);
          }
        case "value_int":
          return Tensor.ofLongs(out, new long[0], a.asLong());
        case "value_ints":
          {
            long[] v = a.asLongs();
            return Tensor.ofLongs(out, new long[] {v.length}, v);
          }
        default:
          throw n.unsupported("constant attribute '" + a.name() + "' is not supported");
      }
    }
    throw n.unsupported("Constant without a value attribute");
  }

  private static Kernel constantKernel(OpNode n) throws UnsupportedModelException {
    Tensor value = constantValue(n);
    if (NdConvert.toDjl(value.dtype()).isEmpty()) {
      throw n.unsupported("constant of element type " + value.dtype() + " is not supported");
    }
    // Constants are folded into the weights at construction; this kernel only runs if one is not.
    return MathOps.single(n, (in, m) -> NdConvert.toNd(value, m));
  }

  private static Kernel dropout(OpNode n) throws UnsupportedModelException {
    n.requireAtMostOutputs(2, "Dropout has two outputs");
    boolean mask = n.wantsOutput(1);
    // Inference: the identity, whatever the ratio; the mask (if asked for) is all true.
    return (in, m) ->
        new NDArray[] {view(in[0]), mask ? m.ones(in[0].getShape(), DataType.BOOLEAN) : null};
  }

  private static Kernel shapeOf(OpNode n) throws UnsupportedModelException {
    long startAttr = n.intAttr("start", 0);
    Long endAttr = n.node().attribute("end").isPresent() ? n.intAttr("end", 0) : null;
    return MathOps.single(
        n,
        (in, m) -> {
          long[] d = Nd.dims(in[0]);
          int r = d.length;
          int start = (int) Math.min(Math.max(startAttr < 0 ? startAttr + r : startAttr, 0), r);
          long e = endAttr == null ? r : endAttr;
          int end = (int) Math.min(Math.max(e < 0 ? e + r : e, 0), r);
          return m.create(Arrays.copyOfRange(d, start, Math.max(start, end)));
        });
  }

  private static Kernel reshape(OpNode n) throws UnsupportedModelException {
    boolean allowZero = n.intAttr("allowzero", 0) != 0;
    if (n.opset() < 5) {
      throw n.unsupported("Reshape before opset 5 (shape as an attribute) is not supported");
    }
    return MathOps.single(
        n,
        (in, m) -> {
          long[] d = Nd.dims(in[0]);
          long[] s = Nd.longs(in[1]);
          long known = 1;
          int inferred = -1;
          for (int i = 0; i < s.length; i++) {
            if (s[i] == 0 && !allowZero) {
              if (i >= d.length) {
                throw new IllegalArgumentException(
                    "shape "
                        + Arrays.toString(s)
                        + " copies dimension "
                        + i
                        + " of rank "
                        + d.length);
              }
              s[i] = d[i];
            }
            if (s[i] == -1) {
              if (inferred >= 0) {
                throw new IllegalArgumentException("more than one -1 in " + Arrays.toString(s));
              }
              inferred = i;
            } else {
              known *= s[i];
            }
          }
          if (inferred >= 0) {
            long total = Nd.product(d, 0, d.length);
            s[inferred] = known == 0 ? 0 : total / known;
          }
          return in[0].reshape(new Shape(s));
        });
  }

  private static Kernel flatten(OpNode n) throws UnsupportedModelException {
    long axisAttr = n.intAttr("axis", 1);
    return MathOps.single(
        n,
        (in, m) -> {
          long[] d = Nd.dims(in[0]);
          int axis = axisAttr == d.length ? d.length : Nd.axis(axisAttr, d.length + 1);
          return in[0].reshape(Nd.product(d, 0, axis), Nd.product(d, axis, d.length));
        });
  }

  private static long[] axesArgument(OpNode n, NDArray[] in, long[] attr, boolean fromInput) {
    if (fromInput) {
      return in.length > 1 && in[1] != null ? Nd.longs(in[1]) : null;
    }
    return attr;
  }

  private static Kernel squeeze(OpNode n) throws UnsupportedModelException {
    boolean fromInput = n.opset() >= 13;
    long[] attr = n.intsAttr("axes", null);
    return MathOps.single(
        n,
        (in, m) -> {
          long[] d = Nd.dims(in[0]);
          long[] axes = axesArgument(n, in, attr, fromInput);
          List<Long> out = new ArrayList<>();
          if (axes == null || axes.length == 0) {
            for (long x : d) {
              if (x != 1) {
                out.add(x);
              }
            }
          } else {
            int[] ax = Nd.axes(axes, d.length);
            for (int i = 0, k = 0; i < d.length; i++) {
              if (k < ax.length && ax[k] == i) {
                if (d[i] != 1) {
                  throw new IllegalArgumentException(
                      "cannot squeeze axis " + i + " of size " + d[i]);
                }
                k++;
              } else {
                out.add(d[i]);
              }
            }
          }
          return in[0].reshape(new Shape(out.stream().mapToLong(Long::longValue).toArray()));
        });
  }

  private static Kernel unsqueeze(OpNode n) throws UnsupportedModelException {
    boolean fromInput = n.opset() >= 13;
    long[] attr = n.intsAttr("axes", null);
    if (!fromInput && attr == null) {
      throw n.unsupported("Unsqueeze without axes");
    }
    return MathOps.single(
        n,
        (in, m) -> {
          long[] d = Nd.dims(in[0]);
          long[] axes = axesArgument(n, in, attr, fromInput);
          if (axes == null) {
            throw new IllegalArgumentException("Unsqueeze needs axes");
          }
          int r = d.length + axes.length;
          int[] ax = Nd.axes(axes, r);
          long[] out = new long[r];
          for (int i = 0, k = 0, j = 0; i < r; i++) {
            if (k < ax.length && ax[k] == i) {
              out[i] = 1;
              k++;
            } else {
              out[i] = d[j++];
            }
          }
          return in[0].reshape(new Shape(out));
        });
  }

  private static Kernel transpose(OpNode n) throws UnsupportedModelException {
    long[] perm = n.intsAttr("perm", null);
    return MathOps.single(
        n,
        (in, m) -> {
          int r = in[0].getShape().dimension();
          int[] p = new int[r];
          for (int i = 0; i < r; i++) {
            p[i] = perm == null ? r - 1 - i : Nd.axis(perm[i], r);
          }
          return r < 2 ? view(in[0]) : in[0].transpose(p);
        });
  }

  private static Kernel concat(OpNode n) throws UnsupportedModelException {
    long axisAttr = n.intAttr("axis", Long.MIN_VALUE);
    if (axisAttr == Long.MIN_VALUE) {
      throw n.unsupported("Concat without an axis attribute");
    }
    return MathOps.single(
        n,
        (in, m) -> {
          int axis = Nd.axis(axisAttr, in[0].getShape().dimension());
          if (in.length == 1) {
            return view(in[0]);
          }
          return NDArrays.concat(new NDList(in), axis);
        });
  }

  private static Kernel gather(OpNode n) throws UnsupportedModelException {
    long axisAttr = n.intAttr("axis", 0);
    return MathOps.single(
        n,
        (in, m) -> {
          NDArray data = in[0];
          NDArray idx = in[1];
          long[] d = Nd.dims(data);
          long[] id = Nd.dims(idx);
          int axis = Nd.axis(axisAttr, d.length);
          // out shape: d[:axis] + idx.shape + d[axis+1:]
          long[] out = new long[d.length - 1 + id.length];
          System.arraycopy(d, 0, out, 0, axis);
          System.arraycopy(id, 0, out, axis, id.length);
          System.arraycopy(d, axis + 1, out, axis + id.length, d.length - axis - 1);
          NDArray flat = idx.toType(DataType.INT64, false).reshape(idx.size());
          // Advanced indexing along one axis (negative indices count from the end, as in ONNX).
          NDArray picked = data.get(new NDIndex(":,".repeat(axis) + "{}", flat));
          return picked.reshape(new Shape(out));
        });
  }

  private static Kernel slice(OpNode n) throws UnsupportedModelException {
    boolean fromInputs = n.opset() >= 10;
    long[] startsAttr = n.intsAttr("starts", null);
    long[] endsAttr = n.intsAttr("ends", null);
    long[] axesAttr = n.intsAttr("axes", null);
    if (!fromInputs && (startsAttr == null || endsAttr == null)) {
      throw n.unsupported("Slice needs starts and ends");
    }
    return MathOps.single(
        n,
        (in, m) -> {
          NDArray x = in[0];
          long[] d = Nd.dims(x);
          long[] starts = fromInputs ? Nd.longs(in[1]) : startsAttr;
          long[] ends = fromInputs ? Nd.longs(in[2]) : endsAttr;
          long[] axes =
              fromInputs ? (in.length > 3 && in[3] != null ? Nd.longs(in[3]) : null) : axesAttr;
          long[] steps = fromInputs && in.length > 4 && in[4] != null ? Nd.longs(in[4]) : null;
          long[] lo = new long[d.length];
          long[] hi = d.clone();
          long[] st = new long[d.length];
          Arrays.fill(st, 1);
          List<Integer> flip = new ArrayList<>();
          for (int i = 0; i < starts.length; i++) {
            int a = Nd.axis(axes == null ? i : axes[i], d.length);
            long step = steps == null ? 1 : steps[i];
            if (step == 0) {
              throw new IllegalArgumentException("Slice step 0 on axis " + a);
            }
            long dim = d[a];
            if (dim == 0) {
              continue;
            }
            long s = starts[i] < 0 ? starts[i] + dim : starts[i];
            long e = ends[i] < 0 ? ends[i] + dim : ends[i];
            if (step > 0) {
              lo[a] = clamp(s, 0, dim);
              hi[a] = clamp(e, 0, dim);
              st[a] = step;
            } else {
              // Walk backwards: slice the flipped axis forwards (index i becomes dim - 1 - i).
              s = clamp(s, 0, dim - 1);
              e = clamp(e, -1, dim - 1);
              lo[a] = dim - 1 - s;
              hi[a] = Math.max(dim - 1 - e, lo[a]);
              st[a] = -step;
              flip.add(a);
            }
            if (hi[a] < lo[a]) {
              hi[a] = lo[a];
            }
          }
          NDArray src = flip.isEmpty() ? x : x.flip(flip.stream().mapToInt(i -> i).toArray());
          NDIndex index = new NDIndex();
          for (int a = 0; a < d.length; a++) {
            index.addSliceDim(lo[a], hi[a], st[a]);
          }
          return src.get(index);
        });
  }

  private static long clamp(long v, long lo, long hi) {
    return Math.max(lo, Math.min(hi, v));
  }

  private static Kernel split(OpNode n) throws UnsupportedModelException {
    long axisAttr = n.intAttr("axis", 0);
    long[] splitAttr = n.intsAttr("split", null);
    long numOutputs = n.intAttr("num_outputs", 0);
    boolean fromInput = n.opset() >= 13;
    int outputs = n.node().outputs().size();
    return (in, m) -> {
      NDArray x = in[0];
      long[] d = Nd.dims(x);
      int axis = Nd.axis(axisAttr, d.length);
      long[] sizes =
          fromInput ? (in.length > 1 && in[1] != null ? Nd.longs(in[1]) : null) : splitAttr;
      if (sizes == null) {
        int parts = numOutputs > 0 ? (int) numOutputs : outputs;
        long chunk = (d[axis] + parts - 1) / parts;
        sizes = new long[parts];
        for (int i = 0; i < parts; i++) {
          sizes[i] = Math.max(0, Math.min(chunk, d[axis] - i * chunk));
        }
      }
      NDArray[] out = new NDArray[outputs];
      long at = 0;
      for (int i = 0; i < outputs; i++) {
        NDIndex index = new NDIndex();
        for (int a = 0; a < d.length; a++) {
          if (a == axis) {
            index.addSliceDim(at, at + sizes[i]);
          } else {
            index.addAllDim();
          }
        }
        at += sizes[i];
        out[i] = x.get(index);
      }
      return out;
    };
  }

  private static Kernel expand(OpNode n) throws UnsupportedModelException {
    return MathOps.single(
        n,
        (in, m) -> {
          long[] target = Nd.broadcast(Nd.dims(in[0]), Nd.longs(in[1]));
          return in[0].broadcast(new Shape(target));
        });
  }

  private static Kernel constantOfShape(OpNode n) throws UnsupportedModelException {
    Tensor value =
        n.node()
            .attribute("value")
            .map(Attribute::asTensor)
            .orElse(Tensor.ofFloats("value", new long[] {1}, 0f));
    if (value.elementCount() != 1 || NdConvert.toDjl(value.dtype()).isEmpty()) {
      throw n.unsupported("value must be one element of a supported type, found " + value);
    }
    Tensor scalar = value.reshape();
    return MathOps.single(
        n,
        (in, m) -> {
          long[] s = Nd.longs(in[0]);
          // A 0-d array expanded to the shape: exact for every element type.
          return NdConvert.toNd(scalar, m).broadcast(new Shape(s));
        });
  }

  private static Kernel range(OpNode n) throws UnsupportedModelException {
    return MathOps.single(
        n,
        (in, m) -> {
          DataType t = in[0].getDataType();
          if (Nd.isInteger(t)) {
            long start = Nd.longs(in[0])[0];
            long limit = Nd.longs(in[1])[0];
            long delta = Nd.longs(in[2])[0];
            if (delta == 0) {
              throw new IllegalArgumentException("Range delta 0");
            }
            long count =
                Math.max(0, -Math.floorDiv(start - limit, delta)); // ceil((limit-start)/delta)
            long[] v = new long[Math.toIntExact(count)];
            for (int i = 0; i < v.length; i++) {
              v[i] = start + i * delta;
            }
            return m.create(v).toType(t, false);
          }
          double start = Nd.scalar(in[0]);
          double limit = Nd.scalar(in[1]);
          double delta = Nd.scalar(in[2]);
          int count = (int) Math.max(0, Math.ceil((limit - start) / delta));
          double[] v = new double[count];
          for (int i = 0; i < count; i++) {
            v[i] = start + i * delta;
          }
          return m.create(v).toType(t, false);
        });
  }
}
