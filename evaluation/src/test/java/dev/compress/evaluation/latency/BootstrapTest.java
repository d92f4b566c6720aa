package dev.compress.evaluation.latency;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.evaluation.latency.Bootstrap.Interval;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BootstrapTest {
  static long[] lognormalNanos(int n, long seed) {
    Random r = new Random(seed);
    long[] t = new long[n];
    for (int i = 0; i < n; i++) {
      t[i] = (long) (1e6 * Math.exp(0.3 * r.nextGaussian()));
    }
    return t;
  }

  @Test
  void intervalsBracketTheEstimateShrinkWithMoreRunsAndAreSeeded() {
    LatencyStats small = LatencyStats.ofNanos(lognormalNanos(30, 1));
    LatencyStats big = LatencyStats.ofNanos(lognormalNanos(3000, 1));
    for (LatencyStats s : List.of(small, big)) {
      assertThat(s.p50Ci().lower()).isLessThanOrEqualTo(s.p50Ms());
      assertThat(s.p50Ci().upper()).isGreaterThanOrEqualTo(s.p50Ms());
      assertThat(s.p99Ms()).isGreaterThanOrEqualTo(s.p90Ms());
      assertThat(s.p99Ci().upper()).isGreaterThanOrEqualTo(s.p99Ci().lower());
    }
    double wSmall = small.p50Ci().upper() - small.p50Ci().lower();
    double wBig = big.p50Ci().upper() - big.p50Ci().lower();
    assertThat(wBig).isLessThan(wSmall / 3); // sqrt(100) = 10x narrower in theory
    // The true median of exp(0.3 Z) ms is 1 ms; the 3,000-run interval holds it.
    assertThat(big.p50Ci().lower()).isLessThan(1.0);
    assertThat(big.p50Ci().upper()).isGreaterThan(1.0);
    assertThat(LatencyStats.ofNanos(lognormalNanos(30, 1))).isEqualTo(small);
    Interval other = new Bootstrap(1000, 0.95, 7).intervals(new double[] {1, 2, 3, 4, 5}, 50)[0];
    assertThat(other.level()).isEqualTo(0.95);
    assertThat(small.throughput(8)).isEqualTo(8 * 1000 / small.meanMs());
  }

  @Test
  void severalWorkloadsRotateAndATimeBudgetStopsEarly() throws Exception {
    List<String> log = new ArrayList<>();
    List<LatencyStats> r =
        InterleavedLatency.measure(
            List.of(() -> log.add("a"), () -> log.add("b"), () -> log.add("c")),
            new LatencyPlan(0, 3, 0));
    assertThat(log).containsExactly("a", "b", "c", "b", "c", "a", "c", "a", "b");
    assertThat(r).hasSize(3).allSatisfy(s -> assertThat(s.samples()).isEqualTo(3));
    List<LatencyStats> budget =
        InterleavedLatency.measure(
            List.of(BootstrapTest::spin, BootstrapTest::spin), new LatencyPlan(1, 1000, 1));
    assertThat(budget.get(0).samples()).isEqualTo(LatencyPlan.MIN_ROUNDS);
  }

  static void spin() {
    long t0 = System.nanoTime();
    while (System.nanoTime() - t0 < 2_000_000) {
      Thread.onSpinWait();
    }
  }
}
