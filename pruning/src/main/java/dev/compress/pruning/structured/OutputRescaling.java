package dev.compress.pruning.structured;

import dev.compress.linalg.Linalg;
import dev.compress.linalg.Matrix;

/**
 * Least-squares rescaling of a group's kept units (Kwon et al. 2022, "mask rescaling"), with FLAP's
 * bias compensation (An et al. 2024) as the affine part.
 *
 * <p>The sink's output is {@code y_t = sum_u a_u(t)}, with {@code a_u(t) = sum_{i in u} x_ti W_i}
 * the contribution of unit {@code u} ({@code W_i} the sink's weight row of input channel {@code
 * i}). The kept units get scales {@code m} minimizing {@code sum_t ||sum_{u kept} m_u a_u(t) -
 * y_t||^2} on the calibration tokens. With {@code G_uv = sum_{i in u, j in v} C_ij (W_i . W_j)}
 * ({@code C = X^T X}) that is {@code (G_KK + lambda I) m = G_K,all 1}, {@code lambda = damping *
 * mean(diag G_KK)}; the scales are clamped to [-10, 10] as in the reference. With bias compensation
 * {@code C} is centered ({@code X^T X - T mu mu^T}) and the sink bias absorbs the mean difference:
 * {@code b += sum_{u removed} sum_{i in u} mu_i W_i + sum_{u kept} (1 - m_u) sum_{i in u} mu_i W_i}
 * (without rescaling {@code m = 1}: exactly FLAP's {@code b += W[:, pruned] mean(X_pruned)}).
 */
final class OutputRescaling {
  static final double SCALE_LIMIT = 10;

  /**
   * @param scales per kept unit, or null when not rescaled
   * @param biasDelta added to the sink bias, or null
   * @param errorBefore relative output error {@code ||y' - y|| / ||y||} with scales 1 (and the bias
   *     compensation when asked), on the calibration tokens
   * @param errorAfter the same with the scales
   */
  record Result(double[] scales, float[] biasDelta, double errorBefore, double errorAfter) {}

  private OutputRescaling() {}

  /**
   * @param rows the sink's weight rows {@code [channels, out]}
   * @param keep kept unit indices, ascending
   */
  static Result solve(
      float[] rows,
      int out,
      long unitSize,
      int units,
      int[] keep,
      SinkStats stats,
      boolean rescale,
      boolean compensate,
      double damping) {
    int us = (int) unitSize;
    int c = units * us;
    double[] gram = stats.gram(compensate);
    Matrix w = Matrix.fromFloats(c, out, rows);
    double[] m = Linalg.multiply(w, w.transpose()).toArray(); // W_i . W_j, (c, c)
    double[] g = new double[units * units];
    for (int i = 0; i < c; i++) {
      int u = i / us;
      for (int j = 0; j < c; j++) {
        g[u * units + j / us] += gram[i * c + j] * m[i * c + j];
      }
    }
    int k = keep.length;
    double[] a = new double[k * k];
    double[] b = new double[k];
    double yy = 0;
    for (int u = 0; u < units; u++) {
      for (int v = 0; v < units; v++) {
        yy += g[u * units + v];
      }
    }
    double diag = 0;
    for (int p = 0; p < k; p++) {
      for (int q = 0; q < k; q++) {
        a[p * k + q] = g[keep[p] * units + keep[q]];
      }
      for (int v = 0; v < units; v++) {
        b[p] += g[keep[p] * units + v];
      }
      diag += a[p * k + p];
    }
    double[] ones = new double[k];
    java.util.Arrays.fill(ones, 1);
    double before = error(a, b, yy, ones);
    double[] scales = null;
    double after = before;
    if (rescale) {
      double lambda = damping * Math.max(diag / k, 1e-30);
      double[] reg = a.clone();
      for (int p = 0; p < k; p++) {
        reg[p * k + p] += lambda;
      }
      Matrix l = Linalg.cholesky(Matrix.wrap(k, k, reg));
      Matrix y = Linalg.solveTriangular(l, Matrix.wrap(k, 1, b.clone()), true, false);
      scales = Linalg.solveTriangular(l, y, true, true).toArray();
      for (int p = 0; p < k; p++) {
        scales[p] = Math.max(-SCALE_LIMIT, Math.min(SCALE_LIMIT, scales[p]));
      }
      after = error(a, b, yy, scales);
    }
    float[] delta = null;
    if (compensate) {
      double[] factor = new double[units];
      java.util.Arrays.fill(factor, 1);
      for (int p = 0; p < k; p++) {
        factor[keep[p]] = scales == null ? 0 : 1 - scales[p];
      }
      delta = new float[out];
      for (int i = 0; i < c; i++) {
        double f = factor[i / us] * stats.mean(i);
        if (f != 0) {
          for (int o = 0; o < out; o++) {
            delta[o] += (float) (f * rows[i * out + o]);
          }
        }
      }
    }
    return new Result(scales, delta, before, after);
  }

  /** {@code sqrt(m^T A m - 2 m^T b + yy) / sqrt(yy)}. */
  private static double error(double[] a, double[] b, double yy, double[] m) {
    int k = b.length;
    double e = yy;
    for (int p = 0; p < k; p++) {
      e -= 2 * m[p] * b[p];
      for (int q = 0; q < k; q++) {
        e += m[p] * a[p * k + q] * m[q];
      }
    }
    return yy <= 0 ? 0 : Math.sqrt(Math.max(0, e) / yy);
  }
}
