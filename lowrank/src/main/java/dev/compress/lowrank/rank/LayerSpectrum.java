package dev.compress.lowrank.rank;

/**
 * What rank allocation knows of one layer: its {@code m x n} shape (out x in) and the squared
 * singular values of the matrix its method truncates (the weight for SVD, the scaled weight for
 * ASVD, the whitened weight for SVD-LLM), whose dropped tail is the layer's truncation loss.
 *
 * @param layer the layer name
 * @param m output features
 * @param n input features
 * @param squared {@code sigma_i^2}, descending; at least the first {@link RankRule#maxUsefulRank}
 *     values (more when known)
 * @param total {@code sum sigma_i^2} over the whole spectrum ({@code ||M||_F^2})
 */
public record LayerSpectrum(String layer, long m, long n, double[] squared, double total) {
  /** Copies the values. */
  public LayerSpectrum {
    squared = squared.clone();
  }

  /** {@code squared[i]}, 0 past the known values. */
  public double squared(int i) {
    return i < squared.length ? squared[i] : 0;
  }

  /** Relative truncation loss of keeping rank {@code k}: {@code sum_{i >= k} sigma_i^2 / total}. */
  public double relativeLoss(int k) {
    if (total <= 0) {
      return 0;
    }
    double kept = 0;
    for (int i = 0; i < Math.min(k, squared.length); i++) {
      kept += squared[i];
    }
    return Math.max(0, (total - kept) / total);
  }

  /** Parameters of the dense weight. */
  public long dense() {
    return m * n;
  }

  /** Parameters of rank-{@code k} factors. */
  public long factored(int k) {
    return k * (m + n);
  }
}
