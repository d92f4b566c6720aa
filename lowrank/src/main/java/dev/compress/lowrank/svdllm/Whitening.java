package dev.compress.lowrank.svdllm;

import dev.compress.api.CompressionException;
import dev.compress.linalg.Linalg;
import dev.compress.linalg.Matrix;
import dev.compress.linalg.NotPositiveDefiniteException;

/**
 * SVD-LLM's whitening factor: the lower Cholesky factor {@code S} of {@code X^T X = S S^T}. When
 * {@code X^T X} is not positive definite (fewer tokens than features, dead features), the reference
 * shifts it by {@code -lambda_min + 1e-6} times the identity and factors again; this class does the
 * same, then escalates the {@code 1e-6} tenfold up to {@value #ESCALATIONS} more times (relative to
 * the largest diagonal element when that is above 1), and past that fails with one line naming the
 * layer.
 *
 * @param s the lower factor, {@code (n, n)}
 * @param ridge the shift added to the diagonal (0 when none was needed)
 */
public record Whitening(Matrix s, double ridge) {
  /** Tenfold escalations of the ridge after the reference's first shift. */
  public static final int ESCALATIONS = 4;

  /**
   * The whitening of one layer's {@code X^T X}.
   *
   * @throws CompressionException naming {@code layer} when no shift makes it positive definite
   *     (e.g. it holds NaN or infinity)
   */
  public static Whitening of(Matrix gram, String layer) throws CompressionException {
    try {
      return new Whitening(Linalg.cholesky(gram), 0);
    } catch (NotPositiveDefiniteException e) {
      // fall through to the shift
    } catch (IllegalArgumentException e) {
      throw fail(layer, e.getMessage());
    }
    double lambdaMin;
    try {
      lambdaMin = Linalg.eigh(gram).values()[0];
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw fail(layer, e.getMessage());
    }
    int n = gram.rows();
    double maxDiag = 0;
    for (int i = 0; i < n; i++) {
      maxDiag = Math.max(maxDiag, Math.abs(gram.get(i, i)));
    }
    double eps = 1e-6;
    String last = "";
    for (int step = 0; step <= ESCALATIONS; step++) {
      double ridge = -lambdaMin + eps;
      double[] a = gram.toArray();
      for (int i = 0; i < n; i++) {
        a[i * n + i] += ridge;
      }
      try {
        return new Whitening(Linalg.cholesky(Matrix.wrap(n, n, a)), ridge);
      } catch (NotPositiveDefiniteException e) {
        last = e.getMessage();
      }
      eps = (step == 0 ? 1e-6 * Math.max(1, maxDiag) : eps) * 10;
    }
    throw fail(
        layer,
        "X^T X stays not positive definite after shifting by -lambda_min + up to "
            + eps / 10
            + " ("
            + last
            + ")");
  }

  private static CompressionException fail(String layer, String why) {
    return new CompressionException(
        "svd-llm: cannot whiten layer '" + layer + "': " + why.replace('\n', ' '));
  }
}
