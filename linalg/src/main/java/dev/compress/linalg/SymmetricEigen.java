package dev.compress.linalg;

import java.util.Arrays;

/**
 * The eigendecomposition {@code A = V diag(values) V^T} of a real symmetric matrix.
 *
 * <p>{@code values} are ascending; column {@code j} of {@code vectors} is the unit eigenvector of
 * {@code values[j]}, with its largest-magnitude entry positive (the first such entry on ties).
 *
 * @param values the eigenvalues, ascending (the accessor returns a copy)
 * @param vectors the orthonormal eigenvectors as columns, {@code (n, n)}
 */
public record SymmetricEigen(double[] values, Matrix vectors) {
  /** Checks that the parts agree on {@code n}, and copies {@code values}. */
  public SymmetricEigen {
    if (vectors.rows() != values.length || vectors.cols() != values.length) {
      throw new IllegalArgumentException(
          "inconsistent eigendecomposition: "
              + values.length
              + " values but vectors is "
              + vectors.shape());
    }
    values = values.clone();
  }

  /** The eigenvalues, ascending (a copy). */
  @Override
  public double[] values() {
    return values.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SymmetricEigen other
        && Arrays.equals(values, other.values)
        && vectors.equals(other.vectors);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(values) + vectors.hashCode();
  }

  @Override
  public String toString() {
    return "SymmetricEigen[n=" + values.length + "]";
  }
}
