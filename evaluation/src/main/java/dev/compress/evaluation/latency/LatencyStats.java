package dev.compress.evaluation.latency;

import java.util.Arrays;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import org.apache.commons.math3.stat.descriptive.rank.Percentile.EstimationType;

/**
 * A summary of timed runs, in milliseconds. Percentiles interpolate linearly between order
 * statistics (Hyndman-Fan type 7, numpy's and R's default), so the median of an even count is the
 * mean of the middle two.
 *
 * @param samples number of timed runs
 * @param p50Ms median
 * @param p90Ms 90th percentile
 * @param minMs fastest run
 * @param meanMs mean
 */
public record LatencyStats(int samples, double p50Ms, double p90Ms, double minMs, double meanMs) {

  /**
   * Summarizes run times.
   *
   * @param nanos one duration per run, in nanoseconds (at least one)
   */
  public static LatencyStats ofNanos(long[] nanos) {
    if (nanos.length == 0) {
      throw new IllegalArgumentException("no timed runs");
    }
    double[] ms = Arrays.stream(nanos).mapToDouble(n -> n / 1e6).toArray();
    Percentile p = new Percentile().withEstimationType(EstimationType.R_7);
    p.setData(ms);
    return new LatencyStats(
        ms.length,
        p.evaluate(50),
        p.evaluate(90),
        Arrays.stream(ms).min().orElseThrow(),
        Arrays.stream(ms).average().orElseThrow());
  }
}
