package dev.compress.quantization.grid;

import java.util.Arrays;
import java.util.Objects;

/**
 * A weight matrix quantized on the {@link MinMaxGrid} whose groups need not be contiguous: the
 * output of GPTQ with act-order, where the group of input feature {@code c} is {@code gIdx[c]}
 * (GPTQ's {@code g_idx}). Codes are in the {@code out x in} view in the original (unpermuted)
 * column order, one per byte; scales and zero points are {@code (rows, groups)}.
 *
 * <p>Without act-order (or with static groups) {@code gIdx[c] == c / groupSize} and the weight is a
 * plain {@link QuantizedMatrix} ({@link #toQuantizedMatrix()}).
 */
public final class GroupQuantizedWeight {
  private final int rows;
  private final int cols;
  private final int bits;
  private final int groupSize;
  private final boolean symmetric;
  private final byte[] codes; // (rows, cols)
  private final float[] scales; // (rows, groups)
  private final int[] zeros; // (rows, groups)
  private final int[] gIdx; // (cols)

  private GroupQuantizedWeight(
      int rows,
      int cols,
      int bits,
      int groupSize,
      boolean symmetric,
      byte[] codes,
      float[] scales,
      int[] zeros,
      int[] gIdx) {
    this.rows = rows;
    this.cols = cols;
    this.bits = bits;
    this.groupSize = groupSize;
    this.symmetric = symmetric;
    this.codes = codes;
    this.scales = scales;
    this.zeros = zeros;
    this.gIdx = gIdx;
  }

  /**
   * A weight from its parts; the arrays are copied.
   *
   * @param groupSize columns per group ({@code cols} for per-channel)
   * @param codes {@code (rows, cols)} unsigned codes in {@code [0, 2^bits - 1]}
   * @param scales {@code (rows, groups)}, {@code groups = ceil(cols / groupSize)}
   * @param zeros {@code (rows, groups)}
   * @param gIdx {@code (cols)} the group of each column, in {@code [0, groups)}
   * @throws IllegalArgumentException when sizes disagree or a value is out of range
   */
  public static GroupQuantizedWeight of(
      int rows,
      int cols,
      int bits,
      int groupSize,
      boolean symmetric,
      byte[] codes,
      float[] scales,
      int[] zeros,
      int[] gIdx) {
    int maxq = MinMaxGrid.maxq(bits);
    if (rows <= 0 || cols <= 0 || groupSize <= 0 || groupSize > cols) {
      throw new IllegalArgumentException(
          "bad shape " + rows + " x " + cols + " with groups of " + groupSize);
    }
    int groups = (cols + groupSize - 1) / groupSize;
    Objects.requireNonNull(codes, "codes");
    if (codes.length != (long) rows * cols
        || scales.length != (long) rows * groups
        || zeros.length != scales.length
        || gIdx.length != cols) {
      throw new IllegalArgumentException(
          "sizes do not match "
              + rows
              + " x "
              + cols
              + " with "
              + groups
              + " groups: codes "
              + codes.length
              + ", scales "
              + scales.length
              + ", zeros "
              + zeros.length
              + ", g_idx "
              + gIdx.length);
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
    for (int g : gIdx) {
      if (g < 0 || g >= groups) {
        throw new IllegalArgumentException("g_idx " + g + " is outside [0, " + groups + ")");
      }
    }
    return new GroupQuantizedWeight(
        rows,
        cols,
        bits,
        groupSize,
        symmetric,
        codes.clone(),
        scales.clone(),
        zeros.clone(),
        gIdx.clone());
  }

  /** A contiguous-group matrix as a weight with {@code gIdx[c] = c / groupSize}. */
  public static GroupQuantizedWeight of(QuantizedMatrix q) {
    int rows = q.rows();
    int cols = q.cols();
    byte[] codes = new byte[rows * cols];
    float[] scales = new float[rows * q.groups()];
    int[] zeros = new int[scales.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        codes[r * cols + c] = (byte) q.code(r, c);
      }
      for (int g = 0; g < q.groups(); g++) {
        scales[r * q.groups() + g] = q.scale(r, g);
        zeros[r * q.groups() + g] = q.zero(r, g);
      }
    }
    return new GroupQuantizedWeight(
        rows,
        cols,
        q.bits(),
        q.groupSize(),
        q.symmetric(),
        codes,
        scales,
        zeros,
        contiguousGroups(cols, q.groupSize()));
  }

  /** {@code c / groupSize} for every column. */
  public static int[] contiguousGroups(int cols, int groupSize) {
    int[] g = new int[cols];
    for (int c = 0; c < cols; c++) {
      g[c] = c / groupSize;
    }
    return g;
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

  /** Columns per group. */
  public int groupSize() {
    return groupSize;
  }

  /** Groups per row. */
  public int groups() {
    return (cols + groupSize - 1) / groupSize;
  }

  /** Whether the grid is symmetric (every zero point {@code 2^(bits-1)}). */
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

  /** The group of column {@code c}. */
  public int group(int c) {
    return gIdx[c];
  }

  /** A copy of the column-to-group map ({@code g_idx}). */
  public int[] gIdx() {
    return gIdx.clone();
  }

  /** Whether {@code gIdx[c] == c / groupSize} for every column. */
  public boolean contiguous() {
    return Arrays.equals(gIdx, contiguousGroups(cols, groupSize));
  }

  /**
   * All values, row-major {@code (rows, cols)}: {@code (q - zero) * scale} of each column's group.
   */
  public float[] dequantize() {
    float[] out = new float[rows * cols];
    int groups = groups();
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int g = r * groups + gIdx[c];
        out[r * cols + c] = MinMaxGrid.dequantize(codes[r * cols + c] & 0xff, scales[g], zeros[g]);
      }
    }
    return out;
  }

  /**
   * The same weight as a contiguous-group {@link QuantizedMatrix}.
   *
   * @throws IllegalStateException when the groups are not contiguous ({@link #contiguous()}) or do
   *     not divide the columns
   */
  public QuantizedMatrix toQuantizedMatrix() {
    if (!contiguous() || cols % groupSize != 0) {
      throw new IllegalStateException(
          "groups are not contiguous blocks of " + groupSize + " columns (act-order g_idx)");
    }
    return QuantizedMatrix.of(rows, cols, bits, groupSize, symmetric, codes, scales, zeros);
  }

  /**
   * The weight with its columns reordered: column {@code j} of the result is column {@code perm[j]}
   * of this one (codes and {@code g_idx} move, groups stay).
   */
  public GroupQuantizedWeight permuteColumns(int[] perm) {
    if (perm.length != cols) {
      throw new IllegalArgumentException(perm.length + " indices for " + cols + " columns");
    }
    byte[] c2 = new byte[codes.length];
    int[] g2 = new int[cols];
    for (int j = 0; j < cols; j++) {
      g2[j] = gIdx[perm[j]];
      for (int r = 0; r < rows; r++) {
        c2[r * cols + j] = codes[r * cols + perm[j]];
      }
    }
    return new GroupQuantizedWeight(
        rows, cols, bits, groupSize, symmetric, c2, scales.clone(), zeros.clone(), g2);
  }
}
