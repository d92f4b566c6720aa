package dev.compress.linalg;

/**
 * A (possibly truncated) singular value decomposition {@code A ~ U diag(s) Vt}.
 *
 * <p>Shapes: {@code u} is {@code (m, k)} with orthonormal columns, {@code s} has {@code k}
 * non-negative values in descending order, {@code vt} is {@code (k, n)} with orthonormal rows.
 * Signs are fixed so that the largest-magnitude entry of each column of {@code u} is positive (the
 * first such entry on ties), which makes results comparable across methods and runs.
 *
 * @param u the left singular vectors as columns, {@code (m, k)}
 * @param s the singular values, descending (the accessor returns a copy)
 * @param vt the right singular vectors as rows, {@code (k, n)}
 */
public record Svd(Matrix u, double[] s, Matrix vt) {
  /** Checks that the three parts agree on {@code k}, and copies {@code s}. */
  public Svd {
    if (u.cols() != s.length || vt.rows() != s.length) {
      throw new IllegalArgumentException(
          "inconsistent SVD: u is "
              + u.shape()
              + ", s has "
              + s.length
              + " values, vt is "
              + vt.shape());
    }
    s = s.clone();
  }

  /** The singular values, descending (a copy). */
  @Override
  public double[] s() {
    return s.clone();
  }

  /** The number of singular triplets {@code k}. */
  public int rank() {
    return s.length;
  }

  /** {@code U diag(s) Vt}, the rank-{@code k} approximation, {@code (m, n)}. */
  public Matrix reconstruct() {
    int m = u.rows();
    int k = s.length;
    double[] us = u.toArray(); // (m, k), scaled by s column-wise
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < k; j++) {
        us[i * k + j] *= s[j];
      }
    }
    return Matrix.wrap(
        m, vt.cols(), OpenBlasLapack.gemm(us, false, vt.data(), false, m, vt.cols(), k));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Svd other
        && u.equals(other.u)
        && java.util.Arrays.equals(s, other.s)
        && vt.equals(other.vt);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * u.hashCode() + java.util.Arrays.hashCode(s)) + vt.hashCode();
  }

  @Override
  public String toString() {
    return "Svd[u=" + u.shape() + ", k=" + s.length + ", vt=" + vt.shape() + "]";
  }
}
