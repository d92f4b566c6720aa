package dev.compress.calibration.hessian;

import dev.compress.calibration.activation.TokenRows;
import dev.compress.linalg.Linalg;
import dev.compress.linalg.Matrix;

/**
 * The layer Hessian of the GPTQ objective, {@code H = 2/n sum x x^T}, kept as a running mean over
 * calibration batches exactly as the reference's {@code add_batch}: for a batch of {@code b}
 * sequences, {@code H *= n / (n + b)}, {@code n += b}, {@code H += 2/n X^T X}, where {@code X}
 * holds the batch's tokens as rows and {@code n} counts sequences (Frantar et al. 2022). Tokens are
 * counted too, for the "fewer tokens than columns" warning. f64 throughout; {@code X^T X} is one
 * BLAS product per batch ({@link Linalg#multiply}).
 *
 * <p>Layers that read the same input (q/k/v) share one accumulator: {@link #share()} registers each
 * further reader, and {@link #take()} hands the matrix itself to the last of them and a copy to the
 * others.
 *
 * <p>Memory: one {@code cols x cols} f64 matrix, plus one batch's activations while adding.
 */
public final class HessianAccumulator {
  private final int cols;
  private double[] h; // (cols, cols)
  private long samples;
  private long tokens;
  private int readers = 1;

  /** An empty accumulator for inputs of {@code cols} features. */
  public HessianAccumulator(int cols) {
    if (cols <= 0) {
      throw new IllegalArgumentException("cols must be > 0, found " + cols);
    }
    this.cols = cols;
    this.h = new double[Math.multiplyExact(cols, cols)];
  }

  /** Input features. */
  public int cols() {
    return cols;
  }

  /** Sequences added so far ({@code n}). */
  public long samples() {
    return samples;
  }

  /** Token rows added so far. */
  public long tokens() {
    return tokens;
  }

  /** Adds the real-token rows of one captured activation. */
  public void add(TokenRows x) {
    add(x.values(), x.rows(), x.sequences());
  }

  /**
   * Registers one more layer that reads this Hessian (a layer sharing its input); {@link #take()}
   * then copies for all but the last reader.
   *
   * @return this
   */
  public HessianAccumulator share() {
    readers++;
    return this;
  }

  /** Layers registered as readers and not yet handed the Hessian by {@link #take()}. */
  public int readers() {
    return readers;
  }

  /**
   * Adds a batch.
   *
   * @param x the tokens' inputs, row-major {@code (rows, cols)}
   * @param rows token rows in {@code x}
   * @param sequences how many sequences the rows came from (the reference's batch size)
   */
  public void add(float[] x, int rows, int sequences) {
    if (x.length != (long) rows * cols) {
      throw new IllegalArgumentException(x.length + " values for " + rows + " x " + cols);
    }
    if (sequences <= 0) {
      throw new IllegalArgumentException("sequences must be > 0, found " + sequences);
    }
    double keep = (double) samples / (samples + sequences);
    samples += sequences;
    tokens += rows;
    double f = 2.0 / samples;
    if (keep != 1) {
      for (int i = 0; i < h.length; i++) {
        h[i] *= keep;
      }
    }
    if (rows == 0) {
      return;
    }
    Matrix xm = Matrix.fromFloats(rows, cols, x);
    double[] g = Linalg.multiply(xm.transpose(), xm).toArray(); // (cols, cols) X^T X
    for (int i = 0; i < h.length; i++) {
      h[i] += f * g[i];
    }
  }

  /** The current Hessian, a copy, row-major {@code (cols, cols)}. */
  public double[] hessian() {
    return h.clone();
  }

  /**
   * The Hessian for one reader, which may change it: a copy while other readers remain, the matrix
   * itself (no copy) for the last one; the accumulator is empty afterwards.
   *
   * @throws IllegalStateException when every reader has taken it already
   */
  public double[] take() {
    if (readers <= 0) {
      throw new IllegalStateException("the Hessian was taken by all its readers already");
    }
    if (--readers > 0) {
      return h.clone();
    }
    double[] out = h;
    h = new double[0];
    return out;
  }
}
