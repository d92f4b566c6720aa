package dev.compress.quantization.rtn;

import dev.compress.quantization.grid.MinMaxGrid;
import dev.compress.quantization.grid.QuantizedMatrix;
import dev.compress.quantization.grid.RowSource;

/**
 * Data-free clipping search for the min-max grid: for each output row and group, the range {@code
 * [min, max]} is shrunk to {@code [p min, p max]} with {@code p = 1 - i / }{@value #GRID} for
 * {@code i = 0 .. }{@value #MAX_SHRINK}{@code * }{@value #GRID}{@code - 1}, and the candidate whose
 * quantized weights minimise {@code sum |w' - w|^}{@value #NORM} over the group is kept. This is
 * the {@code mse=True} option of the GPTQ reference's quantizer (Frantar et al. 2022, {@code
 * quant.py}, {@code Quantizer.find_params}: {@code grid=100}, {@code maxshrink=0.8}, {@code
 * norm=2.4}); the error is the p-norm with p = 2.4 that reference uses, not the plain squared
 * error. A candidate replaces the best only when its error is strictly smaller, so {@code i = 0}
 * (plain round-to-nearest) wins ties and the search never increases the p = 2.4 error of a group.
 *
 * <p>The grid is {@link MinMaxGrid}: {@code fit(p min, p max)} equals the reference's shrunk range
 * (the range is still forced to include zero; a symmetric grid keeps its fixed zero point).
 */
public final class ClipSearch {
  /** Steps per unit of shrink. */
  public static final int GRID = 100;

  /** The largest fraction the range is shrunk by (exclusive). */
  public static final double MAX_SHRINK = 0.8;

  /** The exponent of the error norm. */
  public static final double NORM = 2.4;

  private ClipSearch() {}

  /**
   * Quantizes a row-major {@code (rows, cols)} matrix with the clipping search per row and group.
   *
   * @throws IllegalArgumentException as {@link QuantizedMatrix#quantize} does (shape, group size,
   *     non-finite weight)
   */
  public static QuantizedMatrix quantize(
      float[] w, int rows, int cols, int bits, int groupSize, boolean symmetric) {
    if (rows <= 0 || cols <= 0 || groupSize <= 0 || cols % groupSize != 0) {
      // Let QuantizedMatrix report the shape problem in its words.
      return QuantizedMatrix.quantize(w, rows, cols, bits, groupSize, symmetric);
    }
    if (w.length != (long) rows * cols) {
      throw new IllegalArgumentException(
          w.length + " weights for a " + rows + " x " + cols + " matrix");
    }
    return quantize(RowSource.of(w, cols), rows, cols, bits, groupSize, symmetric);
  }

  /**
   * {@link #quantize(float[], int, int, int, int, boolean)} of a matrix read a block of rows at a
   * time (the same result; rows of a block are searched in parallel).
   */
  public static QuantizedMatrix quantize(
      RowSource w, int rows, int cols, int bits, int groupSize, boolean symmetric) {
    return QuantizedMatrix.quantize(
        w, rows, cols, bits, groupSize, symmetric, ClipSearch::search, true);
  }

  /**
   * The best grid for {@code w[start, start + n)}, row {@code r}'s columns from {@code col0}.
   *
   * @throws IllegalArgumentException on a non-finite weight (naming its row and column)
   */
  static MinMaxGrid.Params search(
      float[] w, int start, int n, int r, int col0, int bits, boolean symmetric) {
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (int i = start; i < start + n; i++) {
      float x = w[i];
      if (!Float.isFinite(x)) {
        throw QuantizedMatrix.nonFinite(r, col0 + (i - start), x);
      }
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    int maxq = MinMaxGrid.maxq(bits);
    MinMaxGrid.Params best = MinMaxGrid.fit(min, max, bits, symmetric);
    double bestErr = error(w, start, n, best, maxq, Double.POSITIVE_INFINITY);
    int steps = (int) (MAX_SHRINK * GRID);
    for (int s = 1; s < steps && bestErr > 0; s++) {
      float p = 1f - (float) s / GRID;
      MinMaxGrid.Params cand = MinMaxGrid.fit(p * min, p * max, bits, symmetric);
      double err = error(w, start, n, cand, maxq, bestErr);
      if (err < bestErr) {
        bestErr = err;
        best = cand;
      }
    }
    return best;
  }

  /** {@code sum |q(w) - w|^NORM}, stopping early once it reaches {@code bound}. */
  static double error(float[] w, int start, int n, MinMaxGrid.Params p, int maxq, double bound) {
    double err = 0;
    for (int i = start; i < start + n; i++) {
      float d =
          Math.abs(
              MinMaxGrid.dequantize(MinMaxGrid.quantize(w[i], p, maxq), p.scale(), p.zero())
                  - w[i]);
      if (d > 0) {
        err += Math.pow(d, NORM);
        if (err >= bound) {
          return err;
        }
      }
    }
    return err;
  }

  /** {@code sum |w' - w|^NORM} of a quantized matrix against the original, over all weights. */
  public static double pNormError(QuantizedMatrix q, float[] w) {
    float[] d = q.dequantize();
    double err = 0;
    for (int i = 0; i < d.length; i++) {
      err += Math.pow(Math.abs(d[i] - w[i]), NORM);
    }
    return err;
  }
}
