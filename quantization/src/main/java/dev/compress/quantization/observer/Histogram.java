package dev.compress.quantization.observer;

/**
 * A histogram of signed values over a symmetric range {@code [-R, R]} in {@value #BINS} equal bins,
 * which grows to fit: when a value falls outside, {@code R} doubles (adjacent bins merge in pairs)
 * until it fits, so no count is ever dropped or re-estimated. Folding the two halves gives the
 * {@value #ABS_BINS}-bin histogram of {@code |x|} that entropy calibration works on. Also tracks
 * the exact minimum and maximum.
 */
public final class Histogram {
  /** Bins over {@code [-R, R]}. */
  public static final int BINS = 4096;

  /** Bins of the folded {@code |x|} histogram over {@code [0, R]}. */
  public static final int ABS_BINS = BINS / 2;

  private final double[] counts = new double[BINS];
  private double halfRange; // R; 0 until a non-zero value is seen
  private double zeros; // values seen while R was 0
  private float min = Float.POSITIVE_INFINITY;
  private float max = Float.NEGATIVE_INFINITY;
  private long total;

  /** Adds {@code n} values. */
  public void add(float[] x, int n) {
    for (int i = 0; i < n; i++) {
      float v = x[i];
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException("activation " + i + " is " + v);
      }
      min = Math.min(min, v);
      max = Math.max(max, v);
      double a = Math.abs(v);
      if (a > halfRange) {
        grow(a);
      }
      total++;
      if (halfRange == 0) {
        zeros++;
        continue;
      }
      int b = (int) ((v + halfRange) / (2 * halfRange) * BINS);
      counts[Math.min(BINS - 1, Math.max(0, b))]++;
    }
  }

  private void grow(double a) {
    if (halfRange == 0) {
      // First non-zero value: a range with headroom, the zeros seen so far in the middle bins.
      halfRange = a * 1.0000001;
      counts[BINS / 2] += zeros;
      zeros = 0;
      return;
    }
    while (halfRange < a) {
      double[] merged = new double[BINS];
      for (int k = 0; k < BINS; k++) {
        merged[(k + BINS / 2) / 2] += counts[k];
      }
      System.arraycopy(merged, 0, counts, 0, BINS);
      halfRange *= 2;
    }
  }

  /** Values added. */
  public long total() {
    return total;
  }

  /** The exact extremes seen. */
  public Range extremes() {
    if (total == 0) {
      throw new IllegalStateException("nothing observed");
    }
    return new Range(min, max);
  }

  /** {@code R}: the histogram covers {@code [-R, R]}. */
  public double halfRange() {
    return halfRange;
  }

  /** Bin width of the signed histogram, {@code 2R / BINS} (also the width of the |x| bins). */
  public double binWidth() {
    return 2 * halfRange / BINS;
  }

  /** The signed counts (a copy); bin {@code k} covers {@code [-R + k w, -R + (k+1) w)}. */
  public double[] counts() {
    double[] c = counts.clone();
    c[BINS / 2] += zeros;
    return c;
  }

  /** The centre of signed bin {@code k}. */
  public double centre(int k) {
    return -halfRange + (k + 0.5) * binWidth();
  }

  /** The |x| histogram: bin {@code i} covers {@code [i w, (i+1) w)}. */
  public double[] absCounts() {
    double[] c = counts();
    double[] out = new double[ABS_BINS];
    for (int i = 0; i < ABS_BINS; i++) {
      out[i] = c[ABS_BINS + i] + c[ABS_BINS - 1 - i];
    }
    return out;
  }
}
