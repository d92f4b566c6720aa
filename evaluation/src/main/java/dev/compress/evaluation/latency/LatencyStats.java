package dev.compress.evaluation.latency;

import dev.compress.evaluation.latency.Bootstrap.Interval;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import org.apache.commons.math3.stat.descriptive.rank.Percentile.EstimationType;

/**
 * A summary of timed runs, in milliseconds. Percentiles interpolate linearly between order
 * statistics (Hyndman-Fan type 7, numpy's and R's default), so the median of an even count is the
 * mean of the middle two. Each percentile carries a seeded percentile-bootstrap confidence interval
 * ({@link Bootstrap}); with few runs the p99 interval is wide, which is the honest answer.
 *
 * @param samples number of timed runs
 * @param p50Ms median
 * @param p90Ms 90th percentile
 * @param p99Ms 99th percentile
 * @param minMs fastest run
 * @param meanMs mean
 * @param p50Ci confidence interval of the median
 * @param p90Ci confidence interval of the 90th percentile
 * @param p99Ci confidence interval of the 99th percentile
 * @param runsMs every run, in the order timed
 */
public record LatencyStats(
    int samples,
    double p50Ms,
    double p90Ms,
    double p99Ms,
    double minMs,
    double meanMs,
    Interval p50Ci,
    Interval p90Ci,
    Interval p99Ci,
    List<Double> runsMs) {

  /** Copies the runs. */
  public LatencyStats {
    runsMs = List.copyOf(runsMs);
  }

  /** Summarizes run times with {@link Bootstrap#DEFAULT} intervals. */
  public static LatencyStats ofNanos(long[] nanos) {
    return ofNanos(nanos, Bootstrap.DEFAULT);
  }

  /**
   * Summarizes run times.
   *
   * @param nanos one duration per run, in nanoseconds (at least one)
   * @param bootstrap how to compute the intervals
   */
  public static LatencyStats ofNanos(long[] nanos, Bootstrap bootstrap) {
    if (nanos.length == 0) {
      throw new IllegalArgumentException("no timed runs");
    }
    double[] ms = Arrays.stream(nanos).mapToDouble(n -> n / 1e6).toArray();
    Percentile p = new Percentile().withEstimationType(EstimationType.R_7);
    p.setData(ms);
    Interval[] ci = bootstrap.intervals(ms, 50, 90, 99);
    return new LatencyStats(
        ms.length,
        p.evaluate(50),
        p.evaluate(90),
        p.evaluate(99),
        Arrays.stream(ms).min().orElseThrow(),
        Arrays.stream(ms).average().orElseThrow(),
        ci[0],
        ci[1],
        ci[2],
        Arrays.stream(ms).boxed().toList());
  }

  /** Items per second at batch size {@code batch}: {@code batch / mean}. */
  public double throughput(int batch) {
    return batch * 1000.0 / meanMs;
  }
}
