package dev.compress.pruning.mask;

import java.util.Arrays;

/**
 * Exact, deterministic pruning masks from importance scores: the {@code k} lowest scores of a set
 * are pruned, ties at the threshold broken by position (lower index first), NaN scores ordered
 * above every number. Masks are {@code true} where a weight is pruned.
 */
public final class ScoreMasks {
  private ScoreMasks() {}

  /**
   * Marks the {@code k} lowest of {@code score[from], score[from + stride], ...} ({@code count}
   * values) in {@code mask} at the same positions.
   */
  public static void lowest(
      double[] score, int from, int stride, int count, int k, boolean[] mask) {
    if (k <= 0) {
      return;
    }
    if (k > count) {
      throw new IllegalArgumentException("cannot prune " + k + " of " + count);
    }
    double[] sorted = new double[count];
    for (int i = 0; i < count; i++) {
      sorted[i] = score[from + i * stride];
    }
    Arrays.sort(sorted);
    double t = sorted[k - 1];
    int below = 0;
    for (int i = 0; i < count; i++) {
      if (Double.compare(sorted[i], t) < 0) {
        below++;
      } else {
        break;
      }
    }
    int ties = k - below;
    for (int i = 0; i < count; i++) {
      int p = from + i * stride;
      int cmp = Double.compare(score[p], t);
      if (cmp < 0) {
        mask[p] = true;
      } else if (cmp == 0 && ties > 0) {
        mask[p] = true;
        ties--;
      }
    }
  }

  /**
   * How many of row {@code r}'s weights to prune so that the layer loses exactly {@code
   * round(sparsity * rows * cols)} weights (half to even) while each row loses {@code
   * floor(sparsity * cols)} or one more: {@code round(s * cols * (r + 1)) - round(s * cols * r)}.
   */
  public static int rowCount(double sparsity, int cols, int r) {
    return (int) (Math.rint(sparsity * cols * (r + 1.0)) - Math.rint(sparsity * cols * (double) r));
  }

  /**
   * A per-row mask over {@code (rows, cols)} row-major scores: each output row loses its lowest
   * scores, {@link #rowCount} of them, so the layer's sparsity is exact.
   */
  public static boolean[] perRow(double[] score, int rows, int cols, double sparsity) {
    boolean[] mask = new boolean[rows * cols];
    for (int r = 0; r < rows; r++) {
      lowest(score, r * cols, 1, cols, rowCount(sparsity, cols, r), mask);
    }
    return mask;
  }

  /**
   * An N:M mask over {@code (rows, cols)} row-major scores: in every group of {@code m} consecutive
   * columns of a row, the {@code n} lowest are pruned.
   *
   * @throws IllegalArgumentException when {@code m} does not divide {@code cols}
   */
  public static boolean[] nOfM(double[] score, int rows, int cols, SparsityPattern p) {
    if (p.unstructured() || cols % p.m() != 0) {
      throw new IllegalArgumentException("pattern " + p + " for " + cols + " columns");
    }
    boolean[] mask = new boolean[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int g = 0; g < cols; g += p.m()) {
        lowest(score, r * cols + g, 1, p.m(), p.n(), mask);
      }
    }
    return mask;
  }

  /** The mask of {@code pattern}: {@link #nOfM} for N:M, else {@link #perRow} at {@code s}. */
  public static boolean[] of(
      double[] score, int rows, int cols, SparsityPattern pattern, double sparsity) {
    return pattern.unstructured()
        ? perRow(score, rows, cols, sparsity)
        : nOfM(score, rows, cols, pattern);
  }
}
