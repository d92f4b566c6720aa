package dev.compress.pruning.structured;

import dev.compress.calibration.activation.ActivationStats;
import dev.compress.calibration.activation.TokenRows;
import dev.compress.calibration.hessian.HessianAccumulator;

/**
 * Statistics of the activations entering one sink layer (the units' channels), over real tokens:
 * per channel the sum of squares ({@link ActivationStats}) and the sum, and optionally the Gram
 * matrix {@code X^T X} (through {@link HessianAccumulator}) for the least-squares rescaling.
 */
final class SinkStats {
  final int channels;
  final ActivationStats stats;
  final double[] sum;
  final HessianAccumulator gram;

  SinkStats(int channels, boolean withGram) {
    this.channels = channels;
    this.stats = new ActivationStats(channels);
    this.sum = new double[channels];
    this.gram = withGram ? new HessianAccumulator(channels) : null;
  }

  void add(TokenRows x) {
    sumSquares = null;
    stats.add(x);
    float[] v = x.values();
    for (int r = 0; r < x.rows(); r++) {
      for (int j = 0; j < channels; j++) {
        sum[j] += v[r * channels + j];
      }
    }
    if (gram != null) {
      gram.add(x);
    }
  }

  /**
   * A Conv's input {@code [N, C, spatial...]} as rows of its {@code C} channels, one row per batch
   * and spatial position.
   */
  static TokenRows channelRows(dev.compress.api.tensor.Tensor x) {
    int n = (int) x.dim(0);
    int c = (int) x.dim(1);
    float[] v = x.toFloatArray();
    int spatial = v.length / (n * c);
    float[] r = new float[v.length];
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        int from = (b * c + ch) * spatial;
        for (int p = 0; p < spatial; p++) {
          r[(b * spatial + p) * c + ch] = v[from + p];
        }
      }
    }
    return new TokenRows(r, n * spatial, c, n);
  }

  long tokens() {
    return stats.tokens();
  }

  /** Mean of channel {@code j}. */
  double mean(int j) {
    return tokens() == 0 ? 0 : sum[j] / tokens();
  }

  /** Mean square of channel {@code j}. */
  double meanSquare(int j) {
    if (sumSquares == null) {
      sumSquares = stats.sumSquares();
    }
    return tokens() == 0 ? 0 : sumSquares[j] / tokens();
  }

  private double[] sumSquares;

  /**
   * {@code sum_t x_t x_t^T} over the tokens, centered ({@code - T mean mean^T}) when asked; from
   * the accumulator's running mean {@code H = 2/n sum X^T X} ({@code n} sequences).
   */
  double[] gram(boolean centered) {
    double[] h = gram.hessian();
    double f = gram.samples() / 2.0;
    long t = tokens();
    for (int i = 0; i < channels; i++) {
      for (int j = 0; j < channels; j++) {
        h[i * channels + j] *= f;
        if (centered) {
          h[i * channels + j] -= t * mean(i) * mean(j);
        }
      }
    }
    return h;
  }
}
