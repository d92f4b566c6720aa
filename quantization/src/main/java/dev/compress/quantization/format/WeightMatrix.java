package dev.compress.quantization.format;

import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.tensor.Tensor;

/**
 * Maps a stored weight to the {@code out x in} view the quantizers work on, and back.
 *
 * <p>{@link WeightLayout#IN_OUT} ({@code [in, out]}, a MatMul weight) is transposed; {@link
 * WeightLayout#OUT_IN} ({@code [out, in]}, a Gemm weight with {@code transB=1}, a Conv weight
 * {@code [out, in/groups, k...]} flattened after the first axis, or an embedding table {@code
 * [rows, dim]}) is already in that view.
 */
public final class WeightMatrix {
  private WeightMatrix() {}

  /**
   * The weight as a row-major {@code (out, in)} f32 matrix (a heap copy).
   *
   * @throws IllegalArgumentException when the element count is not {@code out * in}
   */
  public static float[] outByIn(Tensor w, WeightLayout layout, int out, int in) {
    float[] stored = w.toFloatArray();
    if (stored.length != (long) out * in) {
      throw new IllegalArgumentException(
          "weight " + w.name() + " " + w.shapeString() + " is not " + out + " x " + in);
    }
    if (layout == WeightLayout.OUT_IN) {
      return stored;
    }
    float[] m = new float[stored.length];
    for (int i = 0; i < in; i++) {
      for (int o = 0; o < out; o++) {
        m[o * in + i] = stored[i * out + o];
      }
    }
    return m;
  }

  /** The flat index in storage of element {@code (o, i)} of the {@code out x in} view. */
  public static int storedIndex(WeightLayout layout, int out, int in, int o, int i) {
    return layout == WeightLayout.OUT_IN ? o * in + i : i * out + o;
  }

  /** The storage axis that indexes output channels: 0 for {@code OUT_IN}, 1 for {@code IN_OUT}. */
  public static int outputAxis(WeightLayout layout) {
    return layout == WeightLayout.OUT_IN ? 0 : 1;
  }
}
