package dev.compress.evaluation.latency;

import dev.compress.api.CompressionException;

/**
 * Times two workloads (an original and a compressed model) in the same process, alternating between
 * them so that whatever else the machine is doing slows both alike.
 *
 * <p>Both first run {@code warmup} times untimed (alternating), so one-time costs (allocation,
 * kernel selection, page faults on weights) are paid before timing. Then each timed round runs both
 * once and times each run with {@link System#nanoTime()}: even rounds run {@code a} first, odd
 * rounds {@code b} first, so neither always runs on a cache the other just warmed or cooled.
 */
public final class InterleavedLatency {
  private InterleavedLatency() {}

  /** One run of a workload. */
  @FunctionalInterface
  public interface Workload {
    /** Runs once. */
    void run() throws CompressionException;
  }

  /**
   * The timings of both workloads.
   *
   * @param a the first workload's timings
   * @param b the second workload's timings
   */
  public record Result(LatencyStats a, LatencyStats b) {
    /** {@code b.p50 / a.p50}: below 1 when {@code b} is faster. */
    public double p50Ratio() {
      return b.p50Ms() / a.p50Ms();
    }
  }

  /**
   * Measures {@code a} and {@code b}.
   *
   * @param warmup untimed runs of each before timing (>= 0)
   * @param iterations timed runs of each (> 0)
   * @throws CompressionException the first failure of either workload
   */
  public static Result measure(Workload a, Workload b, int warmup, int iterations)
      throws CompressionException {
    if (warmup < 0 || iterations <= 0) {
      throw new IllegalArgumentException(
          "need warmup >= 0 and iterations > 0, found " + warmup + ", " + iterations);
    }
    for (int i = 0; i < warmup; i++) {
      a.run();
      b.run();
    }
    long[] ta = new long[iterations];
    long[] tb = new long[iterations];
    for (int i = 0; i < iterations; i++) {
      if (i % 2 == 0) {
        ta[i] = time(a);
        tb[i] = time(b);
      } else {
        tb[i] = time(b);
        ta[i] = time(a);
      }
    }
    return new Result(LatencyStats.ofNanos(ta), LatencyStats.ofNanos(tb));
  }

  private static long time(Workload w) throws CompressionException {
    long t0 = System.nanoTime();
    w.run();
    return System.nanoTime() - t0;
  }
}
