package dev.compress.calibration.activation;

/**
 * Per-input-channel statistics of the activations entering a layer, over real tokens only (fed as
 * {@link TokenRows}): the largest magnitude (SmoothQuant's {@code max|X_j|}), the mean magnitude
 * (AWQ's {@code mean|x_j|}), the sum of squares (Wanda's {@code ||X_j||^2}) and the token count.
 * Sums are f64, accumulated row by row in the order rows are added.
 *
 * <p>Memory: three arrays of {@code channels} values. Not thread-safe.
 */
public final class ActivationStats {
  private final int channels;
  private final float[] absMax;
  private final double[] sumAbs;
  private final double[] sumSquares;
  private long tokens;

  /** Empty statistics over {@code channels} input features. */
  public ActivationStats(int channels) {
    if (channels <= 0) {
      throw new IllegalArgumentException("channels must be > 0, found " + channels);
    }
    this.channels = channels;
    absMax = new float[channels];
    sumAbs = new double[channels];
    sumSquares = new double[channels];
  }

  /** Adds the rows of one batch. */
  public void add(TokenRows x) {
    if (x.cols() != channels) {
      throw new IllegalArgumentException(
          "rows of " + x.cols() + " features for statistics over " + channels + " channels");
    }
    float[] v = x.values();
    for (int r = 0; r < x.rows(); r++) {
      int base = r * channels;
      for (int j = 0; j < channels; j++) {
        float a = Math.abs(v[base + j]);
        if (a > absMax[j]) {
          absMax[j] = a;
        }
        sumAbs[j] += a;
        sumSquares[j] += (double) v[base + j] * v[base + j];
      }
    }
    tokens += x.rows();
  }

  /** Input features. */
  public int channels() {
    return channels;
  }

  /** Real tokens added. */
  public long tokens() {
    return tokens;
  }

  /** {@code max |x_j|} per channel (0 before any token), a copy. */
  public float[] absMax() {
    return absMax.clone();
  }

  /** {@code mean |x_j|} per channel (0 before any token). */
  public double[] meanAbs() {
    double[] m = new double[channels];
    for (int j = 0; j < channels; j++) {
      m[j] = tokens == 0 ? 0 : sumAbs[j] / tokens;
    }
    return m;
  }

  /** {@code sum x_j^2} per channel, a copy. */
  public double[] sumSquares() {
    return sumSquares.clone();
  }
}
