package dev.compress.linalg;

import java.util.Arrays;
import java.util.Objects;

/**
 * A dense real matrix stored row-major in a {@code double[]}: element {@code (r, c)} lives at
 * {@code data[r * cols + c]}.
 *
 * <p>Instances are immutable as far as this class is concerned: factories that take an array copy
 * it, and accessors that return an array return a copy. The one exception is {@link #wrap}, which
 * adopts the caller's array without copying (for multi-hundred-megabyte Hessians); the caller
 * promises not to modify it afterwards.
 *
 * <p>Numerics are double precision throughout; {@link #fromFloats} and {@link #toFloatArray} exist
 * because callers such as GPTQ accumulate {@code float} Hessians and store {@code float} weights.
 */
public final class Matrix {
  private final int rows;
  private final int cols;
  private final double[] data; // (rows, cols) row-major

  private Matrix(int rows, int cols, double[] data) {
    this.rows = rows;
    this.cols = cols;
    this.data = data;
  }

  /**
   * A matrix holding a copy of {@code rowMajor}.
   *
   * @throws IllegalArgumentException if a dimension is negative or {@code rowMajor.length != rows *
   *     cols}
   */
  public static Matrix of(int rows, int cols, double... rowMajor) {
    checkShape(rows, cols, rowMajor.length);
    return new Matrix(rows, cols, rowMajor.clone());
  }

  /**
   * A matrix that adopts {@code rowMajor} without copying. The caller must not modify the array
   * afterwards; use this for large inputs where a copy would matter.
   *
   * @throws IllegalArgumentException if a dimension is negative or {@code rowMajor.length != rows *
   *     cols}
   */
  public static Matrix wrap(int rows, int cols, double[] rowMajor) {
    checkShape(rows, cols, rowMajor.length);
    return new Matrix(rows, cols, rowMajor);
  }

  /**
   * A matrix from an array of rows (copied).
   *
   * @throws IllegalArgumentException if the rows have different lengths
   */
  public static Matrix of(double[][] rowArrays) {
    int r = rowArrays.length;
    int c = r == 0 ? 0 : rowArrays[0].length;
    checkShape(r, c, (long) r * c);
    double[] d = new double[r * c];
    for (int i = 0; i < r; i++) {
      if (rowArrays[i].length != c) {
        throw new IllegalArgumentException(
            "row " + i + " has " + rowArrays[i].length + " columns, row 0 has " + c);
      }
      System.arraycopy(rowArrays[i], 0, d, i * c, c);
    }
    return new Matrix(r, c, d);
  }

  /**
   * A matrix from row-major {@code float}s, widened to double.
   *
   * @throws IllegalArgumentException if a dimension is negative or {@code rowMajor.length != rows *
   *     cols}
   */
  public static Matrix fromFloats(int rows, int cols, float[] rowMajor) {
    checkShape(rows, cols, rowMajor.length);
    double[] d = new double[rowMajor.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = rowMajor[i];
    }
    return new Matrix(rows, cols, d);
  }

  /** The {@code rows x cols} zero matrix. */
  public static Matrix zeros(int rows, int cols) {
    checkShape(rows, cols, (long) rows * cols);
    return new Matrix(rows, cols, new double[rows * cols]);
  }

  /** The {@code n x n} identity. */
  public static Matrix identity(int n) {
    double[] d = new double[checkShape(n, n, (long) n * n)];
    for (int i = 0; i < n; i++) {
      d[i * n + i] = 1.0;
    }
    return new Matrix(n, n, d);
  }

  /** Number of rows. */
  public int rows() {
    return rows;
  }

  /** Number of columns. */
  public int cols() {
    return cols;
  }

  /** Whether {@code rows == cols}. */
  public boolean isSquare() {
    return rows == cols;
  }

  /** The shape as {@code "ROWSxCOLS"}, the form used in error messages. */
  public String shape() {
    return rows + "x" + cols;
  }

  /** Element {@code (row, col)}. */
  public double get(int row, int col) {
    Objects.checkIndex(row, rows);
    Objects.checkIndex(col, cols);
    return data[row * cols + col];
  }

  /** A copy of the row-major data. */
  public double[] toArray() {
    return data.clone();
  }

  /** The row-major data narrowed to {@code float}. */
  public float[] toFloatArray() {
    float[] f = new float[data.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) data[i];
    }
    return f;
  }

  /** A copy as an array of rows. */
  public double[][] toArray2D() {
    double[][] out = new double[rows][];
    for (int i = 0; i < rows; i++) {
      out[i] = Arrays.copyOfRange(data, i * cols, (i + 1) * cols);
    }
    return out;
  }

  /** The transpose, {@code cols x rows}. */
  public Matrix transpose() {
    return new Matrix(cols, rows, transpose(data, rows, cols));
  }

  /** The largest {@code |this(i,j) - other(i,j)|}; the shapes must match. */
  public double maxAbsDifference(Matrix other) {
    if (rows != other.rows || cols != other.cols) {
      throw new IllegalArgumentException("shapes differ: " + shape() + " versus " + other.shape());
    }
    double m = 0;
    for (int i = 0; i < data.length; i++) {
      m = Math.max(m, Math.abs(data[i] - other.data[i]));
    }
    return m;
  }

  /** The largest absolute element (0 for an empty matrix). */
  public double maxAbs() {
    double m = 0;
    for (double v : data) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  /** The row-major backing array, not copied: for this package's native calls only. */
  double[] data() {
    return data;
  }

  /** Transposes a row-major {@code (rows, cols)} array into a new {@code (cols, rows)} one. */
  static double[] transpose(double[] a, int rows, int cols) {
    double[] t = new double[a.length];
    final int block = 64; // cache tiles, so large transposes do not thrash
    for (int i0 = 0; i0 < rows; i0 += block) {
      int i1 = Math.min(rows, i0 + block);
      for (int j0 = 0; j0 < cols; j0 += block) {
        int j1 = Math.min(cols, j0 + block);
        for (int i = i0; i < i1; i++) {
          for (int j = j0; j < j1; j++) {
            t[j * rows + i] = a[i * cols + j];
          }
        }
      }
    }
    return t;
  }

  private static int checkShape(int rows, int cols, long length) {
    if (rows < 0 || cols < 0) {
      throw new IllegalArgumentException("negative dimension: " + rows + "x" + cols);
    }
    long need = (long) rows * cols;
    if (need > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          rows + "x" + cols + " does not fit in one Java array (" + need + " elements)");
    }
    if (length != need) {
      throw new IllegalArgumentException(
          "a " + rows + "x" + cols + " matrix needs " + need + " elements, found " + length);
    }
    return (int) need;
  }

  /** Equal when the shapes and every element are equal ({@link Double#compare} semantics). */
  @Override
  public boolean equals(Object o) {
    return o instanceof Matrix m && rows == m.rows && cols == m.cols && Arrays.equals(data, m.data);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * rows + cols) + Arrays.hashCode(data);
  }

  /** The shape and, for small matrices, the rows. */
  @Override
  public String toString() {
    if ((long) rows * cols > 64) {
      return "Matrix[" + shape() + "]";
    }
    StringBuilder sb = new StringBuilder("Matrix[").append(shape()).append("]");
    for (int i = 0; i < rows; i++) {
      sb.append(i == 0 ? " " : ", ")
          .append(Arrays.toString(Arrays.copyOfRange(data, i * cols, (i + 1) * cols)));
    }
    return sb.toString();
  }
}
