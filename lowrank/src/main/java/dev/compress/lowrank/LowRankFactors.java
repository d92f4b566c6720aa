package dev.compress.lowrank;

import dev.compress.linalg.Linalg;
import dev.compress.linalg.Matrix;

/**
 * A rank-{@code k} factorization {@code W' = Wu Wv} of an {@code m x n} (out x in) weight.
 *
 * @param wu {@code (m, k)}
 * @param wv {@code (k, n)}
 */
public record LowRankFactors(Matrix wu, Matrix wv) {
  /** Checks that the shapes agree on {@code k}. */
  public LowRankFactors {
    if (wu.cols() != wv.rows()) {
      throw new IllegalArgumentException("wu is " + wu.shape() + " but wv is " + wv.shape());
    }
  }

  /** The rank {@code k}. */
  public int rank() {
    return wu.cols();
  }

  /** Parameters of the two factors, {@code k (m + n)}. */
  public long parameters() {
    return (long) rank() * (wu.rows() + wv.cols());
  }

  /** {@code Wu Wv}, {@code (m, n)}. */
  public Matrix product() {
    return Linalg.multiply(wu, wv);
  }
}
