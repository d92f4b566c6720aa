package dev.compress.pruning.sparsegpt;

import dev.compress.calibration.hessian.SecondOrderSweep;
import dev.compress.pruning.mask.ScoreMasks;
import dev.compress.pruning.mask.SparsityPattern;
import java.util.Arrays;

/**
 * SparseGPT on one layer (Frantar and Alistarh 2023, "SparseGPT: Massive Language Models Can Be
 * Accurately Pruned in One-Shot", arXiv:2301.00774), as its reference {@code fasterprune}: dead
 * columns zeroed, {@code U} = upper Cholesky factor of {@code (H + lambda I)^-1}, then GPTQ's
 * lazy-block column sweep ({@link SecondOrderSweep}) where the column step sets pruned weights to 0
 * and keeps the others, the error {@code (w - q) / U_jj} compensated on the columns after it.
 *
 * <ul>
 *   <li>Unstructured: at the start of each block of {@code blockSize} columns, the mask prunes the
 *       lowest {@code w^2 / U_jj^2} over the whole {@code rows x block}, one threshold (rows lose
 *       different counts), on the weights as already updated by the blocks before. Each block
 *       prunes {@code round(s * seen) - round(s * seen before)} weights, {@code seen} counting the
 *       layer's weights up to the block's end, so the layer loses exactly {@code round(s * n)} (the
 *       reference's {@code tmp <= sort(tmp)[int(s * numel)]} prunes one more per block, and ties).
 *   <li>N:M: when the sweep reaches the first column of a group of M, each row prunes the N lowest
 *       {@code w^2 / U_jj^2} of the group's M columns as updated so far inside the block.
 * </ul>
 *
 * <p>f64 throughout; {@code W (rows, cols) = (out, in)}.
 */
public final class SparseGptPruner {
  private SparseGptPruner() {}

  /**
   * The pruned layer.
   *
   * @param weight the pruned weight {@code (rows, cols)}, compensated
   * @param loss {@code sum (w - q)^2 / U_jj^2 / 2}
   * @param damp the damping fraction used
   * @param deadColumns columns with {@code H_ii = 0}, zeroed
   */
  public record Result(float[] weight, double loss, double damp, int deadColumns) {}

  /**
   * Prunes one layer.
   *
   * @param w the weight {@code (rows, cols)} row-major; not modified
   * @param hessian {@code (cols, cols)}, {@code 2/n sum x x^T}; overwritten
   * @param maxDamp damping escalates 10x up to this while the factorization fails
   * @throws SecondOrderSweep.NotPositiveDefiniteException when damping does not help
   */
  public static Result prune(
      float[] w,
      int rows,
      int cols,
      double[] hessian,
      double sparsity,
      SparsityPattern pattern,
      int blockSize,
      double damp,
      double maxDamp) {
    if (w.length != (long) rows * cols || hessian.length != (long) cols * cols) {
      throw new IllegalArgumentException(
          w.length + " weights / " + hessian.length + " Hessian values for " + rows + " x " + cols);
    }
    if (!pattern.unstructured() && (cols % pattern.m() != 0 || blockSize % pattern.m() != 0)) {
      throw new IllegalArgumentException(
          "pattern " + pattern + " for " + cols + " columns in blocks of " + blockSize);
    }
    double[] wd = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      wd[i] = w[i];
    }
    int dead = SecondOrderSweep.zeroDeadColumns(hessian, wd, rows, cols);
    SecondOrderSweep.Factor f =
        SecondOrderSweep.dampedInverseCholesky(hessian, cols, damp, maxDamp);
    double[] u = f.u();
    boolean[] mask = new boolean[rows * blockSize]; // the current block's, (rows, count)
    boolean[] pruned = new boolean[rows * cols]; // the layer's mask, (rows, cols)
    SecondOrderSweep.BlockColumnStep step =
        (c, x, wNow, block, q) -> {
          int count = block.count();
          int i = c - block.from();
          if (pattern.unstructured() && i == 0) {
            // one threshold over rows x block, on the weights updated by the blocks before
            double[] score = new double[rows * count];
            for (int r = 0; r < rows; r++) {
              for (int k = 0; k < count; k++) {
                double d = u[(c + k) * cols + c + k];
                double v = block.at(r, c + k);
                score[r * count + k] = v * v / (d * d);
              }
            }
            Arrays.fill(mask, false);
            long seenBefore = (long) rows * c;
            long seen = seenBefore + (long) rows * count;
            int k = (int) (Math.rint(sparsity * seen) - Math.rint(sparsity * seenBefore)); // exact
            ScoreMasks.lowest(score, 0, 1, rows * count, Math.min(k, rows * count), mask);
          } else if (!pattern.unstructured() && c % pattern.m() == 0) {
            int m = pattern.m();
            double[] score = new double[m];
            boolean[] group = new boolean[m];
            for (int r = 0; r < rows; r++) {
              for (int k = 0; k < m; k++) {
                double d = u[(c + k) * cols + c + k];
                double v = block.at(r, c + k);
                score[k] = v * v / (d * d);
              }
              Arrays.fill(group, false);
              ScoreMasks.lowest(score, 0, 1, m, pattern.n(), group);
              for (int k = 0; k < m; k++) {
                mask[r * count + i + k] = group[k];
              }
            }
          }
          for (int r = 0; r < rows; r++) {
            boolean cut = mask[r * count + i];
            pruned[r * cols + c] = cut;
            q[r] = cut ? 0 : x[r];
          }
        };
    double loss = SecondOrderSweep.sweep(wd, rows, cols, u, blockSize, step);
    float[] out = new float[w.length];
    for (int i = 0; i < out.length; i++) {
      // the sweep leaves x - ((x - 0) / d) * d, within rounding of 0, where it pruned
      out[i] = pruned[i] ? 0f : (float) wd[i];
    }
    return new Result(out, loss, f.damp(), dead);
  }
}
