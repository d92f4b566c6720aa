package dev.compress.lowrank;

import dev.compress.linalg.Linalg;
import dev.compress.linalg.Matrix;
import dev.compress.linalg.Svd;
import dev.compress.linalg.SvdMethod;

/** The SVD the factorization methods share, and the squared Frobenius norm beside it. */
public final class Spectra {
  private Spectra() {}

  /**
   * The top {@code triplets} singular triplets of {@code m}: the exact full SVD when all of them
   * are asked for (rank allocation by energy or global budget reads the whole spectrum), else
   * {@link SvdMethod#AUTO}, which stays exact up to {@code min(m, n) = }{@value
   * Linalg#AUTO_EXACT_MAX_DIM} (MiniLM's 384 x 384 and 384 x 1536: see {@code SvdChoiceBench} for
   * why) and goes randomized beyond.
   */
  public static Svd svd(Matrix m, int triplets, long seed) {
    int r = Math.min(m.rows(), m.cols());
    return triplets >= r
        ? Linalg.truncatedSvd(m, r, SvdMethod.EXACT, seed)
        : Linalg.truncatedSvd(m, triplets, SvdMethod.AUTO, seed);
  }

  /** {@code ||m||_F^2}. */
  public static double frobeniusSquared(Matrix m) {
    double s = 0;
    for (double v : m.toArray()) {
      s += v * v;
    }
    return s;
  }

  /** {@code a diag(d)}: column {@code j} of {@code a} times {@code d[j]}. */
  public static Matrix scaleColumns(Matrix a, double[] d) {
    double[] out = a.toArray();
    int n = a.cols();
    for (int i = 0; i < out.length; i++) {
      out[i] *= d[i % n];
    }
    return Matrix.wrap(a.rows(), n, out);
  }
}
