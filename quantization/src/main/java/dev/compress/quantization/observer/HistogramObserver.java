package dev.compress.quantization.observer;

import java.util.List;

/**
 * Per-tensor observers that choose a clipping threshold {@code T} from a {@link Histogram} of
 * everything observed, then propose the observed range clipped to {@code [-T, T]} (a one-sided
 * activation such as a GELU output keeps its small negative end):
 *
 * <ul>
 *   <li><b>percentile</b>: {@code T} is the given percentile of {@code |x|} (interpolated inside
 *       its bin), e.g. 99.99.
 *   <li><b>mse</b>: {@code T} minimises the mean squared quantization error of the observed values
 *       on the actual 8-bit grid (asymmetric uint8 or symmetric int8, as the pass writes it),
 *       clipping included, over every bin edge of the {@code |x|} histogram as candidate; each
 *       bin's values are represented by its centre.
 *   <li><b>kl</b>: entropy calibration as in TensorRT (Migacz, "8-bit Inference with TensorRT", GTC
 *       2017): over the {@value Histogram#ABS_BINS}-bin histogram of {@code |x|}, for every
 *       candidate of {@code i = 128 .. 2048} bins, the reference distribution {@code P} is the
 *       first {@code i} bins with the count of every bin beyond folded into bin {@code i - 1}; the
 *       candidate {@code Q} merges the first {@code i} bins (without outliers) into 128 quantized
 *       bins and expands each back over its non-empty source bins uniformly; both are normalised
 *       (and smoothed so no probability is zero) and {@code T = i * w} for the {@code i} of least
 *       {@code KL(P || Q)}.
 * </ul>
 */
public final class HistogramObserver implements Observer {
  /** The threshold search methods. */
  public enum Method {
    /** A percentile of |x|. */
    PERCENTILE,
    /** Least quantization MSE. */
    MSE,
    /** Least KL divergence (TensorRT entropy calibration). */
    KL
  }

  /** Quantized bins of the KL search: 2^7 levels of |x| for 8-bit symmetric. */
  public static final int KL_TARGET_BINS = 128;

  private final Method method;
  private final double percentile;
  private final boolean symmetric;
  private final Histogram histogram = new Histogram();
  private int cols = -1;

  /**
   * An observer.
   *
   * @param method how to choose the threshold
   * @param percentile for {@link Method#PERCENTILE}: in (0, 100]
   * @param symmetric for {@link Method#MSE}: the grid is symmetric int8 (else asymmetric uint8)
   */
  public HistogramObserver(Method method, double percentile, boolean symmetric) {
    if (method == Method.PERCENTILE && !(percentile > 0 && percentile <= 100)) {
      throw new IllegalArgumentException("percentile must be in (0, 100], found " + percentile);
    }
    this.method = method;
    this.percentile = percentile;
    this.symmetric = symmetric;
  }

  @Override
  public ActivationGranularity granularity() {
    return ActivationGranularity.PER_TENSOR;
  }

  /** The histogram so far. */
  public Histogram histogram() {
    return histogram;
  }

  @Override
  public void observe(float[] x, int rows, int cols) {
    Observers.checkBlock(x, rows, cols, this.cols);
    this.cols = cols;
    histogram.add(x, rows * cols);
  }

  @Override
  public List<Range> ranges() {
    Range ext = histogram.extremes();
    if (histogram.halfRange() == 0) {
      return List.of(ext);
    }
    double t =
        switch (method) {
          case PERCENTILE -> percentileThreshold(histogram.absCounts(), histogram.binWidth());
          case MSE -> mseThreshold();
          case KL -> klThreshold(histogram.absCounts(), histogram.binWidth());
        };
    return List.of(ext.clipTo((float) Math.min(t, ext.absMax())));
  }

  private double percentileThreshold(double[] abs, double w) {
    double total = 0;
    for (double c : abs) {
      total += c;
    }
    double target = total * percentile / 100;
    double seen = 0;
    for (int i = 0; i < abs.length; i++) {
      if (seen + abs[i] >= target && abs[i] > 0) {
        return (i + (target - seen) / abs[i]) * w;
      }
      seen += abs[i];
    }
    return abs.length * w;
  }

  private double mseThreshold() {
    double[] counts = histogram.counts();
    double w = histogram.binWidth();
    Range ext = histogram.extremes();
    double best = Double.POSITIVE_INFINITY;
    double bestT = ext.absMax();
    for (int i = 1; i <= Histogram.ABS_BINS; i++) {
      double t = i * w;
      if (t >= ext.absMax() + w) {
        break;
      }
      Range r = ext.clipTo((float) Math.min(t, ext.absMax()));
      double err = gridError(counts, r);
      if (err < best) {
        best = err;
        bestT = t;
      }
    }
    return bestT;
  }

  /** Sum over bins of count * (centre - dequant(quant(centre)))^2 on the 8-bit grid of r. */
  private double gridError(double[] counts, Range r) {
    ActivationQuantParams p = ActivationQuantParams.of(r, symmetric);
    double err = 0;
    for (int k = 0; k < counts.length; k++) {
      if (counts[k] == 0) {
        continue;
      }
      float v = (float) histogram.centre(k);
      double d = v - p.fakeQuant(v);
      err += counts[k] * d * d;
    }
    return err;
  }

  /** TensorRT's entropy calibration on the |x| histogram; returns the threshold. */
  static double klThreshold(double[] abs, double w) {
    int n = abs.length;
    int last = n;
    while (last > 0 && abs[last - 1] == 0) {
      last--;
    }
    if (last <= KL_TARGET_BINS) {
      return last * w; // everything fits in the quantized bins: no clipping
    }
    double[] suffix = new double[n + 1];
    for (int i = n - 1; i >= 0; i--) {
      suffix[i] = suffix[i + 1] + abs[i];
    }
    double bestKl = Double.POSITIVE_INFINITY;
    int bestI = n;
    double[] p = new double[n];
    double[] q = new double[n];
    for (int i = KL_TARGET_BINS; i <= n; i++) {
      System.arraycopy(abs, 0, p, 0, i);
      p[i - 1] += suffix[i];
      // Quantize the first i bins (outliers not included) into 128 bins, then expand.
      for (int g = 0; g < KL_TARGET_BINS; g++) {
        int from = (int) ((long) g * i / KL_TARGET_BINS);
        int to = (int) ((long) (g + 1) * i / KL_TARGET_BINS);
        double sum = 0;
        int nonEmpty = 0;
        for (int j = from; j < to; j++) {
          sum += abs[j];
          if (abs[j] != 0) {
            nonEmpty++;
          }
        }
        for (int j = from; j < to; j++) {
          q[j] = abs[j] == 0 || nonEmpty == 0 ? 0 : sum / nonEmpty;
        }
      }
      double kl = divergence(p, q, i);
      if (kl < bestKl) {
        bestKl = kl;
        bestI = i;
      }
    }
    return bestI * w;
  }

  /**
   * KL(P || Q) over the first {@code n} entries after normalising both and smoothing each (zero
   * entries get {@code 1e-4} of mass, taken evenly from the non-zero ones, as MXNet's calibration
   * does), so a bin where Q is empty but P is not costs much but finitely.
   */
  static double divergence(double[] p, double[] q, int n) {
    double[] ps = smooth(p, n);
    double[] qs = smooth(q, n);
    if (ps == null || qs == null) {
      return Double.POSITIVE_INFINITY;
    }
    double kl = 0;
    for (int j = 0; j < n; j++) {
      if (ps[j] > 0) {
        kl += ps[j] * Math.log(ps[j] / qs[j]);
      }
    }
    return kl;
  }

  private static double[] smooth(double[] d, int n) {
    final double eps = 1e-4;
    double sum = 0;
    int zeros = 0;
    for (int j = 0; j < n; j++) {
      sum += d[j];
      if (d[j] == 0) {
        zeros++;
      }
    }
    if (sum == 0 || zeros == n) {
      return null;
    }
    double eps1 = eps * zeros / (n - zeros);
    double[] out = new double[n];
    for (int j = 0; j < n; j++) {
      double v = d[j] / sum;
      out[j] = d[j] == 0 ? eps : Math.max(v - eps1, eps * 1e-3);
    }
    return out;
  }
}
