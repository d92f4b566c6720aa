package dev.compress.quantization.format;

import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.grid.RowSource;
import java.util.Set;

/**
 * Maps a stored weight to the {@code out x in} view the quantizers work on, and back.
 *
 * <p>{@link WeightLayout#IN_OUT} ({@code [in, out]}, a MatMul weight) is transposed; {@link
 * WeightLayout#OUT_IN} ({@code [out, in]}, a Gemm weight with {@code transB=1}, a Conv weight
 * {@code [out, in/groups, k...]} flattened after the first axis, or an embedding table {@code
 * [rows, dim]}) is already in that view.
 */
public final class WeightMatrix {
  /**
   * The weight types passes read ({@link #outByIn}, {@link #rows} widen them to f32) and write back
   * in their own type.
   */
  public static final Set<DataType> FLOAT_TYPES =
      Set.of(DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16);

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

  /**
   * The weight's {@code (out, in)} view read a block of output rows at a time straight from its
   * (usually memory-mapped) bytes: no copy of the whole weight is made. Rows read equal the
   * corresponding rows of {@link #outByIn}.
   *
   * @throws IllegalArgumentException when the element count is not {@code out * in}
   */
  public static RowSource rows(Tensor w, WeightLayout layout, int out, int in) {
    if (w.elementCount() != (long) out * in) {
      throw new IllegalArgumentException(
          "weight " + w.name() + " " + w.shapeString() + " is not " + out + " x " + in);
    }
    if (layout == WeightLayout.OUT_IN) {
      return (row0, rows, dst) -> w.readFloats((long) row0 * in, dst, 0, rows * in);
    }
    // [in, out]: output row o is column o; read the block's columns one stored row at a time.
    return (row0, rows, dst) -> {
      float[] seg = new float[rows];
      for (int i = 0; i < in; i++) {
        w.readFloats((long) i * out + row0, seg, 0, rows);
        for (int r = 0; r < rows; r++) {
          dst[r * in + i] = seg[r];
        }
      }
    };
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
