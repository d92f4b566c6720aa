package dev.compress.training.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Fake quantization with the straight-through estimator: {@code x + (q(x) - x).stopGradient()},
 * whose value is {@code q(x)} and whose gradient with respect to {@code x} is the identity. {@code
 * q} quantizes to {@code bits} on the GPTQ reference grid, one scale (and zero point) per group:
 *
 * <ul>
 *   <li>symmetric: {@code s = max|x| / (2^(b-1) - 1)}, {@code q = clamp(round(x/s), -2^(b-1),
 *       2^(b-1) - 1) * s};
 *   <li>asymmetric: the range {@code [min, max]} is widened to include 0, {@code s = (max - min) /
 *       (2^b - 1)}, {@code z = round(-min/s)}, {@code q = (clamp(round(x/s) + z, 0, 2^b - 1) - z) *
 *       s};
 *   <li>an all-zero group gets the range [-1, 1] (scale never 0).
 * </ul>
 *
 * Groups run along {@code axis} (the input-feature axis of a weight: 0 for a MatMul weight {@code
 * [in, out]}, 1 for a Gemm {@code transB} or Conv weight): {@code groupSize} consecutive entries
 * along it, for each position of the other axes; {@code groupSize = 0} is one group per output
 * channel (the whole axis), {@code -1} one group for the tensor. Scales are computed from the
 * detached values (no gradient flows into them).
 *
 * @param bits 2 to 8
 * @param symmetric symmetric grid, or asymmetric with a zero point
 * @param axis the axis groups run along
 * @param groupSize entries per group along {@code axis}, 0 for the whole axis, -1 per tensor
 */
public record FakeQuant(int bits, boolean symmetric, int axis, int groupSize) {

  /** Validates the fields. */
  public FakeQuant {
    if (bits < 2 || bits > 8) {
      throw new IllegalArgumentException("bits must be in [2, 8], found " + bits);
    }
    if (groupSize < -1) {
      throw new IllegalArgumentException(
          "groupSize must be > 0, 0 (per channel) or -1 (per tensor), found " + groupSize);
    }
  }

  /** int8 symmetric per output channel along {@code axis}. */
  public static FakeQuant int8PerChannel(int axis) {
    return new FakeQuant(8, true, axis, 0);
  }

  /** int4 asymmetric in groups of {@code groupSize} along {@code axis}. */
  public static FakeQuant int4Groups(int axis, int groupSize) {
    return new FakeQuant(4, false, axis, groupSize);
  }

  /** {@code q(x)} with the straight-through gradient (see the class comment). */
  public NDArray apply(NDArray x) {
    NDArray q = quantizeDequantize(x.stopGradient());
    return x.add(q.sub(x).stopGradient());
  }

  /** {@code q(x)} alone, without a gradient. */
  public NDArray quantizeDequantize(NDArray x) {
    long[] d = x.getShape().getShape();
    int rank = d.length;
    int a = axis < 0 ? axis + rank : axis;
    if (rank > 0 && (a < 0 || a >= rank)) {
      throw new IllegalArgumentException(
          "axis " + axis + " out of range for shape " + x.getShape());
    }
    NDArray g; // grouped view: the reduced axis is `ra`
    int ra;
    if (groupSize == -1 || rank == 0) {
      g = x.reshape(1, -1);
      ra = 1;
    } else {
      long len = d[a];
      long gs = groupSize == 0 ? len : groupSize;
      if (len % gs != 0) {
        throw new IllegalArgumentException(
            "axis " + a + " of length " + len + " is not a multiple of groupSize " + groupSize);
      }
      long[] shape = new long[rank + 1];
      for (int i = 0, j = 0; i < rank; i++) {
        if (i == a) {
          shape[j++] = len / gs;
          shape[j++] = gs;
        } else {
          shape[j++] = d[i];
        }
      }
      g = x.reshape(new Shape(shape));
      ra = a + 1;
    }
    int[] red = {ra};
    NDArray out;
    if (symmetric) {
      float qmax = (1 << (bits - 1)) - 1;
      NDArray amax = g.abs().max(red, true);
      NDArray s = amax.eq(0).toType(amax.getDataType(), false).add(amax).div(qmax);
      out = g.div(s).round().clip(-qmax - 1, qmax).mul(s);
    } else {
      float maxq = (1 << bits) - 1;
      NDArray lo = g.min(red, true).minimum(0f);
      NDArray hi = g.max(red, true).maximum(0f);
      NDArray zero = lo.eq(hi).toType(lo.getDataType(), false); // all-zero group: [-1, 1]
      lo = lo.sub(zero);
      hi = hi.add(zero);
      NDArray s = hi.sub(lo).div(maxq);
      NDArray z = lo.neg().div(s).round();
      out = g.div(s).round().add(z).clip(0, maxq).sub(z).mul(s);
    }
    return out.reshape(x.getShape());
  }
}
