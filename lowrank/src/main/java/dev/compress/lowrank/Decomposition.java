package dev.compress.lowrank;

import dev.compress.linalg.Matrix;
import dev.compress.linalg.Svd;
import dev.compress.lowrank.rank.LayerSpectrum;
import java.util.function.UnaryOperator;

/**
 * The SVD {@code M = U Sigma V^T} of the matrix a method truncates ({@code M = W T} with {@code T}
 * the identity for SVD, {@code diag(s)} for ASVD, the whitening factor {@code S} for SVD-LLM), and
 * the way back: rank-{@code k} factors {@code Wu = U_k sqrt(Sigma_k)}, {@code Wv = sqrt(Sigma_k)
 * V_k^T T^{-1}}, so that {@code Wu Wv T} is the best rank-{@code k} approximation of {@code M}.
 */
public final class Decomposition {
  private final Svd svd;
  private final double total;
  private final UnaryOperator<Matrix> unscale;

  /**
   * @param svd the (possibly truncated) SVD of {@code M}
   * @param total {@code ||M||_F^2}, the whole squared spectrum
   * @param unscale maps {@code sqrt(Sigma_k) V_k^T (k, n)} to {@code Wv = that T^{-1}}
   */
  public Decomposition(Svd svd, double total, UnaryOperator<Matrix> unscale) {
    this.svd = svd;
    this.total = total;
    this.unscale = unscale;
  }

  /** The singular values of {@code M} that were computed, descending. */
  public double[] singularValues() {
    return svd.s();
  }

  /** {@code ||M||_F^2}. */
  public double total() {
    return total;
  }

  /** What rank allocation needs of this layer. */
  public LayerSpectrum spectrum(String layer) {
    double[] s = svd.s();
    double[] sq = new double[s.length];
    for (int i = 0; i < s.length; i++) {
      sq[i] = s[i] * s[i];
    }
    return new LayerSpectrum(layer, svd.u().rows(), svd.vt().cols(), sq, total);
  }

  /**
   * The rank-{@code k} factors.
   *
   * @throws IllegalArgumentException when {@code k} exceeds the computed triplets
   */
  public LowRankFactors factors(int k) {
    if (k < 1 || k > svd.rank()) {
      throw new IllegalArgumentException(
          "rank must be in [1, " + svd.rank() + "] for this decomposition, found " + k);
    }
    int m = svd.u().rows();
    int n = svd.vt().cols();
    double[] s = svd.s();
    double[] u = svd.u().toArray(); // (m, r)
    double[] vt = svd.vt().toArray(); // (r, n)
    int r = svd.rank();
    double[] wu = new double[m * k];
    double[] wv = new double[k * n];
    for (int j = 0; j < k; j++) {
      double root = Math.sqrt(s[j]);
      for (int i = 0; i < m; i++) {
        wu[i * k + j] = u[i * r + j] * root;
      }
      for (int c = 0; c < n; c++) {
        wv[j * n + c] = vt[j * n + c] * root;
      }
    }
    return new LowRankFactors(Matrix.wrap(m, k, wu), unscale.apply(Matrix.wrap(k, n, wv)));
  }
}
