package dev.compress.calibration.hessian;

import dev.compress.linalg.Linalg;
import dev.compress.linalg.Matrix;

/**
 * The second-order machinery shared by GPTQ (Frantar et al. 2022, arXiv:2210.17323) and SparseGPT
 * (Frantar and Alistarh 2023, arXiv:2301.00774), apart from what each does to a column:
 *
 * <ol>
 *   <li>dead columns ({@code H_ii = 0}): {@code H_ii = 1}, {@code W[:, i] = 0} ({@link
 *       #zeroDeadColumns});
 *   <li>damping {@code lambda = damp * mean(diag H)} on the diagonal, escalated 10x while the
 *       Cholesky factorization fails, up to a limit ({@link #dampedInverseCholesky});
 *   <li>{@code U} = upper Cholesky factor of {@code H^-1};
 *   <li>the lazy-block column sweep ({@link #sweep}): for column {@code j}, the step replaces it
 *       with {@code q} (quantized, or 0 where pruned), {@code e = (w - q) / U_jj}, {@code W1[:, j:]
 *       -= e U[j, j:]} inside the block; after the block {@code W[:, end:] -= E U[block, end:]}.
 * </ol>
 *
 * <p>f64 throughout; matrices row-major, {@code W (rows, cols)} = {@code (out, in)}.
 */
public final class SecondOrderSweep {
  private SecondOrderSweep() {}

  /** What one algorithm does to a column. */
  @FunctionalInterface
  public interface ColumnStep {
    /**
     * Replaces column {@code c}.
     *
     * @param c the column, in sweep order
     * @param x its current values, one per row (updated by the columns before it)
     * @param w the working weights {@code (rows, cols)} as of the start of the current lazy block
     *     (the block's own columns not yet updated within it, as the reference reads {@code W} for
     *     GPTQ's group grids)
     * @param q receives the new value of each row
     */
    void step(int c, double[] x, double[] w, double[] q);
  }

  /**
   * A column step that also reads the current lazy block as updated so far inside it: SparseGPT
   * chooses an N:M mask per row from the next {@code M} columns after the columns before them have
   * been compensated.
   */
  @FunctionalInterface
  public interface BlockColumnStep {
    /**
     * Replaces column {@code c}.
     *
     * @param c the column, in sweep order
     * @param x its current values, one per row
     * @param w the working weights as of the start of the current lazy block (see {@link
     *     ColumnStep#step})
     * @param block the lazy block holding {@code c}, its columns updated by every column before
     *     {@code c}
     * @param q receives the new value of each row
     */
    void step(int c, double[] x, double[] w, LazyBlock block, double[] q);
  }

  /**
   * The working copy of one lazy block: columns {@code [from, from + count)} of the weights.
   *
   * @param from the first column
   * @param count columns in the block
   * @param rows rows of the weights
   * @param values {@code (rows, count)} row-major, updated in place as the sweep moves on; read
   *     only
   */
  public record LazyBlock(int from, int count, int rows, double[] values) {
    /** The current value at {@code row} and absolute column {@code col}. */
    public double at(int row, int col) {
      return values[row * count + col - from];
    }
  }

  /**
   * The damping that worked and the factor.
   *
   * @param u the upper Cholesky factor of {@code (H + lambda I)^-1}, {@code (cols, cols)}
   * @param damp the damping fraction used ({@code lambda / mean(diag H)})
   */
  public record Factor(double[] u, double damp) {}

  /** Thrown when the Hessian stays indefinite at the largest damping allowed. */
  public static final class NotPositiveDefiniteException extends ArithmeticException {
    private static final long serialVersionUID = 1L;
    private final double damp;

    NotPositiveDefiniteException(double damp, String message) {
      super(message);
      this.damp = damp;
    }

    /** The last damping fraction tried. */
    public double damp() {
      return damp;
    }
  }

  /**
   * Dead columns: where {@code H_ii = 0}, sets {@code H_ii = 1} and zeroes {@code W[:, i]}.
   *
   * @return how many columns were dead
   */
  public static int zeroDeadColumns(double[] hessian, double[] w, int rows, int cols) {
    int dead = 0;
    for (int i = 0; i < cols; i++) {
      if (hessian[i * cols + i] == 0) {
        hessian[i * cols + i] = 1;
        dead++;
        for (int r = 0; r < rows; r++) {
          w[r * cols + i] = 0;
        }
      }
    }
    return dead;
  }

  /**
   * Damps the diagonal with {@code damp * mean(diag H)} and factors; on failure multiplies {@code
   * damp} by 10 while it stays within {@code maxDamp}. The Hessian is overwritten (its diagonal
   * ends damped).
   *
   * @throws NotPositiveDefiniteException with the factorization's message when {@code maxDamp} is
   *     reached
   */
  public static Factor dampedInverseCholesky(
      double[] hessian, int cols, double damp, double maxDamp) {
    double[] diag0 = new double[cols];
    double mean = 0;
    for (int i = 0; i < cols; i++) {
      diag0[i] = hessian[i * cols + i];
      mean += diag0[i];
    }
    mean /= cols;
    while (true) {
      for (int i = 0; i < cols; i++) {
        hessian[i * cols + i] = diag0[i] + damp * mean;
      }
      try {
        return new Factor(
            Linalg.choleskyOfInverse(Matrix.wrap(cols, cols, hessian), true).toArray(), damp);
      } catch (ArithmeticException e) {
        if (damp * 10 > maxDamp * (1 + 1e-9)) {
          throw new NotPositiveDefiniteException(damp, e.getMessage());
        }
        damp *= 10;
      }
    }
  }

  /**
   * The lazy-block sweep over every column, in order.
   *
   * @param w the working weights {@code (rows, cols)}, updated in place (columns end as the steps
   *     left them, later ones compensated)
   * @param u the upper Cholesky factor of {@code H^-1} ({@link #dampedInverseCholesky})
   * @param blockSize columns per lazy block
   * @return the loss {@code sum (w - q)^2 / U_jj^2 / 2}
   */
  public static double sweep(
      double[] w, int rows, int cols, double[] u, int blockSize, ColumnStep step) {
    return sweep(w, rows, cols, u, blockSize, (c, x, wNow, block, q) -> step.step(c, x, wNow, q));
  }

  /**
   * The same sweep with a step that also reads the current lazy block ({@link BlockColumnStep}).
   *
   * @return the loss {@code sum (w - q)^2 / U_jj^2 / 2}
   */
  public static double sweep(
      double[] w, int rows, int cols, double[] u, int blockSize, BlockColumnStep step) {
    double loss = 0;
    double[] x = new double[rows];
    double[] q = new double[rows];
    for (int i1 = 0; i1 < cols; i1 += blockSize) {
      int i2 = Math.min(i1 + blockSize, cols);
      int count = i2 - i1;
      double[] w1 = new double[rows * count]; // (rows, count)
      for (int r = 0; r < rows; r++) {
        System.arraycopy(w, r * cols + i1, w1, r * count, count);
      }
      double[] err1 = new double[rows * count];
      double[] err = new double[rows];
      LazyBlock block = new LazyBlock(i1, count, rows, w1);
      for (int i = 0; i < count; i++) {
        int c = i1 + i;
        for (int r = 0; r < rows; r++) {
          x[r] = w1[r * count + i];
        }
        step.step(c, x, w, block, q);
        double d = u[c * cols + c];
        for (int r = 0; r < rows; r++) {
          double e = (x[r] - q[r]) / d;
          loss += (x[r] - q[r]) * (x[r] - q[r]) / (d * d) / 2;
          err[r] = e;
          err1[r * count + i] = e;
        }
        int urow = c * cols + i1;
        for (int r = 0; r < rows; r++) {
          double e = err[r];
          if (e == 0) {
            continue;
          }
          int base = r * count;
          for (int k = i; k < count; k++) {
            w1[base + k] -= e * u[urow + k];
          }
        }
      }
      for (int r = 0; r < rows; r++) {
        System.arraycopy(w1, r * count, w, r * cols + i1, count);
      }
      int rest = cols - i2;
      if (rest > 0) {
        double[] ub = new double[count * rest];
        for (int k = 0; k < count; k++) {
          System.arraycopy(u, (i1 + k) * cols + i2, ub, k * rest, rest);
        }
        double[] upd =
            Linalg.multiply(Matrix.wrap(rows, count, err1), Matrix.wrap(count, rest, ub)).toArray();
        for (int r = 0; r < rows; r++) {
          int wb = r * cols + i2;
          int ubase = r * rest;
          for (int k = 0; k < rest; k++) {
            w[wb + k] -= upd[ubase + k];
          }
        }
      }
    }
    return loss;
  }
}
