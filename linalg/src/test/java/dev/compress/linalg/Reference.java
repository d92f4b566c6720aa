package dev.compress.linalg;

import dev.compress.fixtures.Gaussian;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;

/** Test inputs with fixed seeds, and conversions to the Commons Math reference types. */
final class Reference {
  private Reference() {}

  /** An {@code (m, n)} matrix of standard normals. */
  static Matrix gaussian(int m, int n, long seed) {
    return Matrix.wrap(m, n, Gaussian.doubles(new Random(seed), m * n));
  }

  /**
   * A symmetric positive definite {@code X X^T / n + 0.1 I} (condition number in the tens to
   * hundreds), exactly symmetric.
   */
  static Matrix spd(int n, long seed) {
    double[] x = gaussian(n, n, seed).toArray();
    double[] a = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        double dot = 0;
        for (int c = 0; c < n; c++) {
          dot += x[i * n + c] * x[j * n + c];
        }
        a[i * n + j] = dot / n;
        a[j * n + i] = dot / n;
      }
      a[i * n + i] += 0.1;
    }
    return Matrix.wrap(n, n, a);
  }

  /** An {@code (m, n)} matrix {@code U0 diag(sigma) V0^T} with random orthonormal U0, V0. */
  static Matrix withSpectrum(int m, int n, double[] sigma, long seed) {
    int r = sigma.length;
    double[] u = Linalg.svd(gaussian(m, r, seed)).u().toArray(); // (m, r) orthonormal columns
    double[] vt = Linalg.svd(gaussian(r, n, seed + 1)).vt().toArray(); // (r, n) orthonormal rows
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < r; j++) {
        u[i * r + j] *= sigma[j];
      }
    }
    return Linalg.multiply(Matrix.wrap(m, r, u), Matrix.wrap(r, n, vt));
  }

  /**
   * Returns {@code value}; with {@code -Dlinalg.printMeasured=true} also prints it, which is how
   * the {@code // measured} comments beside the bounds are refreshed. Quiet by default.
   */
  static double measured(String label, double value) {
    if (Boolean.getBoolean("linalg.printMeasured")) {
      StackTraceElement at =
          StackWalker.getInstance().walk(s -> s.skip(1).findFirst()).get().toStackTraceElement();
      System.out.printf("measured %-22s line %3d: %.3g%n", label, at.getLineNumber(), value);
    }
    return value;
  }

  static RealMatrix commons(Matrix a) {
    return new Array2DRowRealMatrix(a.toArray2D(), false);
  }

  static Matrix ours(RealMatrix a) {
    return Matrix.of(a.getData());
  }

  /** {@code max_ij |a_ij - b_ij|}. */
  static double maxDiff(Matrix a, RealMatrix b) {
    return a.maxAbsDifference(ours(b));
  }

  /** {@code max_ij |(Q^T Q - I)_ij|} for the columns of {@code q}. */
  static double orthonormalityError(Matrix q) {
    return Linalg.multiply(q.transpose(), q).maxAbsDifference(Matrix.identity(q.cols()));
  }

  /** The largest {@code | |a_j . b_j| - 1 |} over paired columns: equality up to sign. */
  static double columnsUpToSign(Matrix a, Matrix b) {
    double worst = 0;
    for (int j = 0; j < a.cols(); j++) {
      double dot = 0;
      for (int i = 0; i < a.rows(); i++) {
        dot += a.get(i, j) * b.get(i, j);
      }
      worst = Math.max(worst, Math.abs(Math.abs(dot) - 1));
    }
    return worst;
  }
}
