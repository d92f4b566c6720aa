package dev.compress.runtime.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;

/** Small host-side helpers shared by the kernels. */
final class Nd {
  private Nd() {}

  /** The values of an integer array (shape inputs, axes, indices) as int64 on the host. */
  static long[] longs(NDArray a) {
    if (a.getDataType() == DataType.INT64) {
      return a.toLongArray();
    }
    try (NDArray l = a.toType(DataType.INT64, true)) {
      return l.toLongArray();
    }
  }

  /** The single value of a one-element array, as a double on the host. */
  static double scalar(NDArray a) {
    if (a.size() != 1) {
      throw new IllegalArgumentException("expected one element, found shape " + a.getShape());
    }
    try (NDArray d = a.toType(DataType.FLOAT64, true)) {
      return d.toDoubleArray()[0];
    }
  }

  /** The dimensions of {@code a}. */
  static long[] dims(NDArray a) {
    return a.getShape().getShape();
  }

  /** An ONNX axis (negative counts from the end) normalized against {@code rank}. */
  static int axis(long axis, int rank) {
    long a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw new IllegalArgumentException("axis " + axis + " out of range for rank " + rank);
    }
    return (int) a;
  }

  /** Normalized, sorted, distinct axes. */
  static int[] axes(long[] axes, int rank) {
    int[] out = new int[axes.length];
    for (int i = 0; i < axes.length; i++) {
      out[i] = axis(axes[i], rank);
    }
    Arrays.sort(out);
    for (int i = 1; i < out.length; i++) {
      if (out[i] == out[i - 1]) {
        throw new IllegalArgumentException("repeated axis in " + Arrays.toString(axes));
      }
    }
    return out;
  }

  /** Product of {@code dims[from..to)}. */
  static long product(long[] dims, int from, int to) {
    long p = 1;
    for (int i = from; i < to; i++) {
      p = Math.multiplyExact(p, dims[i]);
    }
    return p;
  }

  /** Multidirectional (numpy) broadcast of two shapes. */
  static long[] broadcast(long[] a, long[] b) {
    int r = Math.max(a.length, b.length);
    long[] out = new long[r];
    for (int i = 0; i < r; i++) {
      long x = i < r - a.length ? 1 : a[i - (r - a.length)];
      long y = i < r - b.length ? 1 : b[i - (r - b.length)];
      if (x != y && x != 1 && y != 1) {
        throw new IllegalArgumentException(
            "shapes " + Arrays.toString(a) + " and " + Arrays.toString(b) + " do not broadcast");
      }
      out[i] = x == 1 ? y : x;
    }
    return out;
  }

  /** Whether the type is an integer type (not bool, not floating point). */
  static boolean isInteger(DataType t) {
    return switch (t) {
      case INT8, UINT8, INT16, INT32, INT64, UINT16, UINT32, UINT64 -> true;
      default -> false;
    };
  }
}
