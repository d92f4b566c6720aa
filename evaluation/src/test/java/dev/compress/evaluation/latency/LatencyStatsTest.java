package dev.compress.evaluation.latency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LatencyStatsTest {
  @Test
  void percentilesInterpolateLikeNumpy() {
    // numpy.percentile([1, 2, 3, 4] ms, [50, 90]) = 2.5, 3.7
    LatencyStats s = LatencyStats.ofNanos(new long[] {4_000_000, 1_000_000, 3_000_000, 2_000_000});
    assertThat(s.p50Ms()).isCloseTo(2.5, within(1e-12));
    assertThat(s.p90Ms()).isCloseTo(3.7, within(1e-12));
    assertThat(s.minMs()).isEqualTo(1.0);
    assertThat(s.meanMs()).isEqualTo(2.5);
    assertThat(s.samples()).isEqualTo(4);
  }

  @Test
  void runsAlternateAfterWarmup() throws Exception {
    List<String> log = new ArrayList<>();
    InterleavedLatency.Result r =
        InterleavedLatency.measure(() -> log.add("a"), () -> log.add("b"), 1, 3);
    assertThat(log).containsExactly("a", "b", "a", "b", "b", "a", "a", "b");
    assertThat(r.a().samples()).isEqualTo(3);
    assertThat(r.b().samples()).isEqualTo(3);
  }
}
