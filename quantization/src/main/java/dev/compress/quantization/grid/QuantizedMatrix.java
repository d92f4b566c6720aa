package dev.compress.quantization.grid;

import java.util.Objects;

/**
 * A weight matrix quantized on the {@link MinMaxGrid}: unsigned integer codes in the {@code out x
 * in} view (PyTorch's {@code weight}), with one scale and zero point per output row and group of
 * {@link #groupSize()} consecutive input features. Per-channel quantization is one group spanning
 * the whole row ({@code groupSize == cols}).
 *
 * <p>Codes are held one per byte here, whatever the bit width; the storage formats pack them
 * ({@link dev.compress.quantization.format}). Instances are immutable; the arrays are never
 * exposed.
 */
public final class QuantizedMatrix {
  private final int rows;
  private final int cols;
  private final int bits;
  private final int groupSize;
  private final boolean symmetric;
  private final byte[] codes; // (rows, cols), unsigned codes in [0, maxq]
  private final float[] scales; // (rows, groups)
  private final int[] zeros; // (rows, groups)

  private QuantizedMatrix(
      int rows,
      int cols,
      int bits,
      int groupSize,
      boolean symmetric,
      byte[] codes,
      float[] scales,
      int[] zeros) {
    this.rows = rows;
    this.cols = cols;
    this.bits = bits;
    this.groupSize = groupSize;
    this.symmetric = symmetric;
    this.codes = codes;
    this.scales = scales;
    this.zeros = zeros;
  }

  /**
   * Round-to-nearest quantization of a row-major {@code (rows, cols)} matrix.
   *
   * @param w the weights, {@code w[r * cols + c]}; must be finite
   * @param groupSize input features per group; {@code cols} for per-channel; must divide {@code
   *     cols}
   * @throws IllegalArgumentException on a shape mismatch, a group size that does not divide {@code
   *     cols}, or a non-finite weight (the message names the row and column)
   */
  public static QuantizedMatrix quantize(
      float[] w, int rows, int cols, int bits, int groupSize, boolean symmetric) {
    checkShape(rows, cols, groupSize);
    if (w.length != (long) rows * cols) {
      throw new IllegalArgumentException(
          w.length + " weights for a " + rows + " x " + cols + " matrix");
    }
    int maxq = MinMaxGrid.maxq(bits);
    int groups = cols / groupSize;
    byte[] codes = new byte[w.length];
    float[] scales = new float[rows * groups];
    int[] zeros = new int[rows * groups];
    for (int r = 0; r < rows; r++) {
      for (int g = 0; g < groups; g++) {
        int start = r * cols + g * groupSize;
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = start; i < start + groupSize; i++) {
          float x = w[i];
          if (!Float.isFinite(x)) {
            throw new IllegalArgumentException(
                "weight at row " + r + ", column " + (i - r * cols) + " is " + x);
          }
          min = Math.min(min, x);
          max = Math.max(max, x);
        }
        MinMaxGrid.Params p = MinMaxGrid.fit(min, max, bits, symmetric);
        scales[r * groups + g] = p.scale();
        zeros[r * groups + g] = p.zero();
        for (int i = start; i < start + groupSize; i++) {
          codes[i] = (byte) MinMaxGrid.quantize(w[i], p, maxq);
        }
      }
    }
    return new QuantizedMatrix(rows, cols, bits, groupSize, symmetric, codes, scales, zeros);
  }

  /**
   * A matrix from its parts (e.g. unpacked from a storage format); the arrays are copied.
   *
   * @param codes {@code (rows, cols)} unsigned codes
   * @param scales {@code (rows, cols / groupSize)}
   * @param zeros {@code (rows, cols / groupSize)}
   * @throws IllegalArgumentException when sizes disagree or a code or zero point is out of range
   */
  public static QuantizedMatrix of(
      int rows,
      int cols,
      int bits,
      int groupSize,
      boolean symmetric,
      byte[] codes,
      float[] scales,
      int[] zeros) {
    checkShape(rows, cols, groupSize);
    int maxq = MinMaxGrid.maxq(bits);
    int groups = cols / groupSize;
    Objects.requireNonNull(codes, "codes");
    if (codes.length != (long) rows * cols
        || scales.length != (long) rows * groups
        || zeros.length != scales.length) {
      throw new IllegalArgumentException(
          "sizes do not match a "
              + rows
              + " x "
              + cols
              + " matrix with groups of "
              + groupSize
              + ": codes "
              + codes.length
              + ", scales "
              + scales.length
              + ", zeros "
              + zeros.length);
    }
    for (byte c : codes) {
      if ((c & 0xff) > maxq) {
        throw new IllegalArgumentException("code " + (c & 0xff) + " exceeds " + maxq);
      }
    }
    for (int z : zeros) {
      if (z < 0 || z > maxq) {
        throw new IllegalArgumentException("zero point " + z + " is outside [0, " + maxq + "]");
      }
    }
    return new QuantizedMatrix(
        rows, cols, bits, groupSize, symmetric, codes.clone(), scales.clone(), zeros.clone());
  }

  private static void checkShape(int rows, int cols, int groupSize) {
    if (rows <= 0 || cols <= 0) {
      throw new IllegalArgumentException("empty matrix " + rows + " x " + cols);
    }
    if (groupSize <= 0 || cols % groupSize != 0) {
      throw new IllegalArgumentException(
          "group size " + groupSize + " does not divide " + cols + " columns");
    }
  }

  /** Output rows. */
  public int rows() {
    return rows;
  }

  /** Input columns. */
  public int cols() {
    return cols;
  }

  /** Bits per code. */
  public int bits() {
    return bits;
  }

  /** Columns per group ({@link #cols()} for per-channel). */
  public int groupSize() {
    return groupSize;
  }

  /** Groups per row. */
  public int groups() {
    return cols / groupSize;
  }

  /** Whether the grid is symmetric (every zero point is {@code 2^(bits-1)}). */
  public boolean symmetric() {
    return symmetric;
  }

  /** The unsigned code at {@code (r, c)}. */
  public int code(int r, int c) {
    return codes[r * cols + c] & 0xff;
  }

  /** The scale of row {@code r}, group {@code g}. */
  public float scale(int r, int g) {
    return scales[r * groups() + g];
  }

  /** The zero point of row {@code r}, group {@code g}. */
  public int zero(int r, int g) {
    return zeros[r * groups() + g];
  }

  /** The value at {@code (r, c)}: {@code (q - zero) * scale}. */
  public float dequantize(int r, int c) {
    int g = c / groupSize;
    return MinMaxGrid.dequantize(code(r, c), scale(r, g), zero(r, g));
  }

  /** All values, row-major {@code (rows, cols)}. */
  public float[] dequantize() {
    float[] out = new float[rows * cols];
    int groups = groups();
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int g = r * groups + c / groupSize;
        out[r * cols + c] = MinMaxGrid.dequantize(codes[r * cols + c] & 0xff, scales[g], zeros[g]);
      }
    }
    return out;
  }

  /**
   * Signal-to-quantization-noise ratio against the original weights, in dB: {@code 10 log10(sum w^2
   * / sum (w - w')^2)}; {@link Double#POSITIVE_INFINITY} when the quantization is exact.
   */
  public double sqnrDb(float[] original) {
    if (original.length != codes.length) {
      throw new IllegalArgumentException(original.length + " weights for " + codes.length);
    }
    float[] deq = dequantize();
    double signal = 0;
    double noise = 0;
    for (int i = 0; i < deq.length; i++) {
      double d = (double) original[i] - deq[i];
      signal += (double) original[i] * original[i];
      noise += d * d;
    }
    return noise == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
  }
}
