package dev.compress.evaluation.latency;

import java.util.Arrays;
import org.apache.commons.math3.random.RandomGenerator;
import org.apache.commons.math3.random.Well19937c;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import org.apache.commons.math3.stat.descriptive.rank.Percentile.EstimationType;

/**
 * Percentile-bootstrap confidence intervals for a quantile of timed runs (Efron &amp; Tibshirani,
 * <i>An Introduction to the Bootstrap</i>, 1993, ch. 13): resample the runs with replacement {@code
 * resamples} times, take the quantile of each resample, and report the {@code (1-level)/2} and
 * {@code (1+level)/2} quantiles of those estimates. Seeded, so the same runs give the same
 * interval.
 *
 * @param resamples bootstrap resamples (> 0)
 * @param level confidence level in (0, 1), e.g. 0.95
 * @param seed seed of the resampling generator (Commons Math {@link Well19937c})
 */
public record Bootstrap(int resamples, double level, long seed) {
  /** 1,000 resamples, 95% level, seed 0. */
  public static final Bootstrap DEFAULT = new Bootstrap(1000, 0.95, 0L);

  /** Validates the arguments. */
  public Bootstrap {
    if (resamples <= 0) {
      throw new IllegalArgumentException("resamples must be > 0, found " + resamples);
    }
    if (!(level > 0 && level < 1)) {
      throw new IllegalArgumentException("level must be in (0, 1), found " + level);
    }
  }

  /**
   * A confidence interval.
   *
   * @param lower lower bound
   * @param upper upper bound
   * @param level its confidence level
   */
  public record Interval(double lower, double upper, double level) {}

  /**
   * Intervals for several quantiles of {@code x}, from the same resamples.
   *
   * @param x the sample (at least one value)
   * @param quantiles quantiles in (0, 100], e.g. 50, 90, 99
   * @return one interval per quantile, in order
   */
  public Interval[] intervals(double[] x, double... quantiles) {
    if (x.length == 0) {
      throw new IllegalArgumentException("no values");
    }
    RandomGenerator rng = new Well19937c(seed);
    double[][] est = new double[quantiles.length][resamples];
    double[] r = new double[x.length];
    Percentile p = new Percentile().withEstimationType(EstimationType.R_7);
    for (int b = 0; b < resamples; b++) {
      for (int i = 0; i < r.length; i++) {
        r[i] = x[rng.nextInt(x.length)];
      }
      p.setData(r);
      for (int q = 0; q < quantiles.length; q++) {
        est[q][b] = p.evaluate(quantiles[q]);
      }
    }
    double lo = 100 * (1 - level) / 2;
    double hi = 100 * (1 + level) / 2;
    Interval[] out = new Interval[quantiles.length];
    for (int q = 0; q < quantiles.length; q++) {
      Arrays.sort(est[q]);
      p.setData(est[q]);
      out[q] = new Interval(p.evaluate(lo), p.evaluate(hi), level);
    }
    return out;
  }
}
