package dev.compress.quantization.grid;

import java.util.Objects;
import java.util.stream.IntStream;

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
   * Fits the grid of one group: {@code w[start, start + n)} holds row {@code row}'s columns {@code
   * [col0, col0 + n)}.
   */
  @FunctionalInterface
  public interface GroupFit {
    /**
     * The scale and zero point of the group.
     *
     * @throws IllegalArgumentException on a non-finite weight, naming its row and column
     */
    MinMaxGrid.Params fit(float[] w, int start, int n, int row, int col0, int bits, boolean sym);
  }

  /** Each group's full min-max range (round-to-nearest). */
  public static final GroupFit MIN_MAX =
      (w, start, n, row, col0, bits, sym) -> {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = start; i < start + n; i++) {
          float x = w[i];
          if (!Float.isFinite(x)) {
            throw nonFinite(row, col0 + (i - start), x);
          }
          min = Math.min(min, x);
          max = Math.max(max, x);
        }
        return MinMaxGrid.fit(min, max, bits, sym);
      };

  /** The error for a non-finite weight at {@code (row, col)}. */
  public static IllegalArgumentException nonFinite(int row, int col, float x) {
    return new IllegalArgumentException("weight at row " + row + ", column " + col + " is " + x);
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
    Builder b = new Builder(rows, cols, bits, groupSize, symmetric);
    b.rows(w, 0, rows, MIN_MAX, false);
    return b.build();
  }

  /**
   * Round-to-nearest quantization of a matrix read {@link RowSource#blockRows a block of rows} at a
   * time: the result equals {@link #quantize(float[], int, int, int, int, boolean)} of the whole
   * matrix, with one block of f32 values on the heap instead of all of them.
   */
  public static QuantizedMatrix quantize(
      RowSource src, int rows, int cols, int bits, int groupSize, boolean symmetric) {
    return quantize(src, rows, cols, bits, groupSize, symmetric, MIN_MAX, false);
  }

  /**
   * Quantizes a matrix read a block of rows at a time, each group on the grid {@code fit} chooses.
   *
   * @param parallel fit the rows of a block in parallel (the result is the same)
   * @throws IllegalArgumentException as {@link #quantize(float[], int, int, int, int, boolean)}
   */
  public static QuantizedMatrix quantize(
      RowSource src,
      int rows,
      int cols,
      int bits,
      int groupSize,
      boolean symmetric,
      GroupFit fit,
      boolean parallel) {
    checkShape(rows, cols, groupSize);
    Builder b = new Builder(rows, cols, bits, groupSize, symmetric);
    int block = RowSource.blockRows(cols);
    float[] buf = new float[Math.multiplyExact(Math.min(block, rows), cols)];
    for (int r0 = 0; r0 < rows; r0 += block) {
      int n = Math.min(block, rows - r0);
      src.read(r0, n, buf);
      b.rows(buf, r0, n, fit, parallel);
    }
    return b.build();
  }

  /** Codes, scales and zero points filled a block of rows at a time. */
  private static final class Builder {
    final int rows;
    final int cols;
    final int bits;
    final int groupSize;
    final boolean symmetric;
    final byte[] codes;
    final float[] scales;
    final int[] zeros;

    Builder(int rows, int cols, int bits, int groupSize, boolean symmetric) {
      MinMaxGrid.maxq(bits); // validates bits
      this.rows = rows;
      this.cols = cols;
      this.bits = bits;
      this.groupSize = groupSize;
      this.symmetric = symmetric;
      this.codes = new byte[Math.multiplyExact(rows, cols)];
      this.scales = new float[rows * (cols / groupSize)];
      this.zeros = new int[scales.length];
    }

    /** Rows {@code [r0, r0 + n)}, held in {@code w} from index 0. */
    void rows(float[] w, int r0, int n, GroupFit fit, boolean parallel) {
      IntStream range = IntStream.range(0, n);
      (parallel ? range.parallel() : range).forEach(j -> row(w, j * cols, r0 + j, fit));
    }

    private void row(float[] w, int base, int r, GroupFit fit) {
      int maxq = MinMaxGrid.maxq(bits);
      int groups = cols / groupSize;
      for (int g = 0; g < groups; g++) {
        int start = base + g * groupSize;
        MinMaxGrid.Params p = fit.fit(w, start, groupSize, r, g * groupSize, bits, symmetric);
        scales[r * groups + g] = p.scale();
        zeros[r * groups + g] = p.zero();
        int out = r * cols + g * groupSize;
        for (int i = 0; i < groupSize; i++) {
          codes[out + i] = (byte) MinMaxGrid.quantize(w[start + i], p, maxq);
        }
      }
    }

    QuantizedMatrix build() {
      return new QuantizedMatrix(rows, cols, bits, groupSize, symmetric, codes, scales, zeros);
    }
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
    return sqnrDb(RowSource.of(original, cols));
  }

  /**
   * {@link #sqnrDb(float[])} against the original weights read a block of rows at a time (the same
   * sums in the same order, so the same value).
   */
  public double sqnrDb(RowSource original) {
    int block = RowSource.blockRows(cols);
    float[] buf = new float[Math.min(block, rows) * cols];
    int groups = groups();
    double signal = 0;
    double noise = 0;
    for (int r0 = 0; r0 < rows; r0 += block) {
      int n = Math.min(block, rows - r0);
      original.read(r0, n, buf);
      for (int j = 0; j < n * cols; j++) {
        int r = r0 + j / cols;
        int c = j % cols;
        int g = r * groups + c / groupSize;
        float deq = MinMaxGrid.dequantize(codes[r * cols + c] & 0xff, scales[g], zeros[g]);
        double d = (double) buf[j] - deq;
        signal += (double) buf[j] * buf[j];
        noise += d * d;
      }
    }
    return noise == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
  }
}
