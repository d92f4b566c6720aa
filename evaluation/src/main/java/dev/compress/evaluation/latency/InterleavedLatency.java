package dev.compress.evaluation.latency;

import dev.compress.api.CompressionException;
import java.util.ArrayList;
import java.util.List;

/**
 * Times several workloads (an original and one or more compressed models) in the same process,
 * alternating between them so that whatever else the machine is doing slows all of them alike.
 *
 * <p>All first run {@code warmup} times untimed (alternating), so one-time costs (allocation,
 * kernel selection, page faults on weights) are paid before timing. Then each timed round runs
 * every workload once and times each run with {@link System#nanoTime()}; round {@code r} starts
 * with workload {@code r mod n}, so none always runs on a cache another just warmed or cooled.
 * Rounds stop after {@link LatencyPlan#iterations()} or when the plan's time budget is spent.
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
   * The timings of two workloads.
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
   * Measures {@code a} and {@code b} for exactly {@code iterations} rounds.
   *
   * @param warmup untimed runs of each before timing (>= 0)
   * @param iterations timed runs of each (> 0)
   * @throws CompressionException the first failure of either workload
   */
  public static Result measure(Workload a, Workload b, int warmup, int iterations)
      throws CompressionException {
    List<LatencyStats> r = measure(List.of(a, b), new LatencyPlan(warmup, iterations, 0));
    return new Result(r.get(0), r.get(1));
  }

  /**
   * Measures every workload.
   *
   * @return one summary per workload, in order; all have the same number of runs
   * @throws CompressionException the first failure of any workload
   */
  public static List<LatencyStats> measure(List<Workload> workloads, LatencyPlan plan)
      throws CompressionException {
    int n = workloads.size();
    if (n == 0) {
      throw new IllegalArgumentException("no workloads");
    }
    for (int i = 0; i < plan.warmup(); i++) {
      for (Workload w : workloads) {
        w.run();
      }
    }
    long[][] t = new long[n][plan.iterations()];
    long deadline = System.nanoTime() + plan.budgetMillis() * 1_000_000L;
    int rounds = 0;
    while (rounds < plan.iterations()) {
      for (int k = 0; k < n; k++) {
        int j = (rounds + k) % n;
        t[j][rounds] = time(workloads.get(j));
      }
      rounds++;
      if (plan.budgetMillis() > 0
          && rounds >= LatencyPlan.MIN_ROUNDS
          && System.nanoTime() - deadline > 0) {
        break;
      }
    }
    List<LatencyStats> out = new ArrayList<>(n);
    for (long[] ts : t) {
      out.add(LatencyStats.ofNanos(java.util.Arrays.copyOf(ts, rounds)));
    }
    return out;
  }

  private static long time(Workload w) throws CompressionException {
    long t0 = System.nanoTime();
    w.run();
    return System.nanoTime() - t0;
  }
}
