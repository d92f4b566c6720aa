package dev.compress.quantization.observer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ObserversTest {
  @Test
  void minMaxPerTensorChannelAndToken() {
    float[] x = {1, -2, 3, 0.5f, 4, -1}; // 2 tokens x 3 features
    Observer t = Observers.create("minmax", ActivationGranularity.PER_TENSOR, 0, 0, false);
    t.observe(x, 2, 3);
    t.observe(new float[] {-5, 0, 0}, 1, 3);
    assertThat(t.range()).isEqualTo(new Range(-5, 4));

    Observer c = Observers.create("minmax", ActivationGranularity.PER_CHANNEL, 0, 0, false);
    c.observe(x, 2, 3);
    assertThat(c.ranges()).containsExactly(new Range(0.5f, 1), new Range(-2, 4), new Range(-1, 3));

    Observer k = Observers.create("minmax", ActivationGranularity.PER_TOKEN, 0, 0, false);
    k.observe(x, 2, 3);
    assertThat(k.ranges()).containsExactly(new Range(-2, 3), new Range(-1, 4));
    k.observe(new float[] {7, 8, 9}, 1, 3);
    assertThat(k.ranges()).containsExactly(new Range(7, 9)); // the latest block only
  }

  @Test
  void movingAverageFollowsPyTorch() {
    Observer m =
        Observers.create("moving-average", ActivationGranularity.PER_TENSOR, 0, 0.5, false);
    m.observe(new float[] {0, 1}, 1, 2); // first batch sets [0, 1]
    m.observe(new float[] {-2, 3}, 1, 2); // min = 0 + .5(-2 - 0) = -1; max = 1 + .5(3 - 1) = 2
    assertThat(m.range()).isEqualTo(new Range(-1, 2));
  }

  @Test
  void percentileOfUniformValues() {
    float[] x = new float[10000];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i + 0.5f) / x.length * (i % 2 == 0 ? 1 : -1); // |x| uniform on (0, 1)
    }
    Observer p = Observers.create("percentile", ActivationGranularity.PER_TENSOR, 99, 0, false);
    p.observe(x, 100, 100);
    Range r = p.range();
    assertThat((double) r.max()).isCloseTo(0.99, within(2e-3));
    assertThat((double) r.min()).isCloseTo(-0.99, within(2e-3));
  }

  private static float[] gaussianWithOutlier(int n, float outlier) {
    SplittableRandom rnd = new SplittableRandom(7);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      double u = rnd.nextDouble();
      double v = rnd.nextDouble();
      x[i] = (float) (Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v));
    }
    x[n / 2] = outlier;
    return x;
  }

  private static double mse(float[] x, Range r) {
    ActivationQuantParams p = ActivationQuantParams.of(r, false);
    double s = 0;
    for (float v : x) {
      double d = v - p.fakeQuant(v);
      s += d * d;
    }
    return s / x.length;
  }

  @Test
  void mseClipsALongTailAndBeatsMinMaxOnTheData() {
    // Laplace(0, 1): the 8-bit MSE-optimal clip is about 9.9 (Banner et al., ACIQ), below the
    // maximum of 200k samples (about 11.5).
    SplittableRandom rnd = new SplittableRandom(11);
    float[] x = new float[200_000];
    float lo = 0;
    float hi = 0;
    for (int i = 0; i < x.length; i++) {
      double u = rnd.nextDouble() - 0.5;
      x[i] = (float) (-Math.signum(u) * Math.log(1 - 2 * Math.abs(u)));
      lo = Math.min(lo, x[i]);
      hi = Math.max(hi, x[i]);
    }
    Observer o = Observers.create("mse", ActivationGranularity.PER_TENSOR, 0, 0, false);
    o.observe(x, 2000, 100);
    Range r = o.range();
    Range minMax = new Range(lo, hi);
    assertThat(r.absMax()).isLessThan(minMax.absMax()).isGreaterThan(6f);
    assertThat(mse(x, r)).isLessThan(mse(x, minMax));
    assertThat(mse(x, r)).isLessThan(mse(x, minMax.clipTo(5f)));
  }

  @Test
  void klClipsAGaussianTailButNotItsBody() {
    float[] x = gaussianWithOutlier(200_000, 40f);
    Observer o = Observers.create("kl", ActivationGranularity.PER_TENSOR, 0, 0, true);
    o.observe(x, 2000, 100);
    Range r = o.range();
    assertThat(r.max()).isGreaterThan(2.5f).isLessThan(20f);
    assertThat(r.min()).isEqualTo(-r.max());
  }

  @Test
  void klKeepsTheWholeRangeWhenItFitsInTheQuantizedBins() {
    double[] abs = new double[Histogram.ABS_BINS];
    for (int i = 0; i < 100; i++) {
      abs[i] = 1 + i % 3;
    }
    assertThat(HistogramObserver.klThreshold(abs, 0.5)).isEqualTo(50.0);
  }

  @Test
  void klIsZeroForIdenticalDistributionsAndPositiveOtherwise() {
    double[] p = {1, 2, 3, 4};
    assertThat(HistogramObserver.divergence(p, p.clone(), 4)).isCloseTo(0, within(1e-12));
    assertThat(HistogramObserver.divergence(p, new double[] {4, 3, 2, 1}, 4)).isPositive();
  }

  @Test
  void histogramGrowsWithoutLosingCounts() {
    Histogram h = new Histogram();
    h.add(new float[] {0, 0, 0.5f, -0.25f}, 4);
    h.add(new float[] {100, -3}, 2);
    double sum = 0;
    for (double c : h.counts()) {
      sum += c;
    }
    assertThat(sum).isEqualTo(6);
    assertThat(h.halfRange()).isGreaterThanOrEqualTo(100);
    double absSum = 0;
    for (double c : h.absCounts()) {
      absSum += c;
    }
    assertThat(absSum).isEqualTo(6);
    assertThat(h.extremes()).isEqualTo(new Range(-3, 100));
    // 100 lands in its |x| bin; the zeros in the first.
    double[] abs = h.absCounts();
    assertThat(abs[(int) (100 / h.binWidth())]).isEqualTo(1);
    assertThat(abs[0]).isGreaterThanOrEqualTo(2);
  }

  @Test
  void unknownObserverAndBadSettingsNameTheirKeys() {
    List<String> problems = new ArrayList<>();
    Observers.validate("entropy", ActivationGranularity.PER_TENSOR, 99.99, 0.01, problems);
    assertThat(problems)
        .containsExactly(
            "observer must be one of [minmax, moving-average, percentile, mse, kl], found"
                + " 'entropy'");
    problems.clear();
    Observers.validate("kl", ActivationGranularity.PER_CHANNEL, 99.99, 0.01, problems);
    Observers.validate("percentile", ActivationGranularity.PER_TENSOR, 120, 0.01, problems);
    Observers.validate("moving-average", ActivationGranularity.PER_TENSOR, 99, 0, problems);
    assertThat(problems).hasSize(3);
    assertThat(problems.get(0)).contains("granularity must be PER_TENSOR");
    assertThat(problems.get(1)).startsWith("percentile must be in (0, 100]");
    assertThat(problems.get(2)).startsWith("averagingConstant must be in (0, 1]");
    assertThatThrownBy(() -> Observers.create("foo", ActivationGranularity.PER_TENSOR, 0, 0, false))
        .hasMessageContaining("observer must be one of");
  }

  @Test
  void activationGridMatchesQuantizeLinear() {
    ActivationQuantParams u = ActivationQuantParams.of(new Range(-1, 3), false);
    assertThat(u.scale()).isEqualTo(4f / 255f);
    assertThat(u.zeroPoint()).isEqualTo(64); // rint(63.75)
    assertThat(u.quantize(3)).isEqualTo(255);
    assertThat(u.quantize(100)).isEqualTo(255); // saturates
    ActivationQuantParams s = ActivationQuantParams.of(new Range(-1, 3), true);
    assertThat(s.scale()).isEqualTo(3f / 127f);
    assertThat(s.zeroPoint()).isZero();
    assertThat(s.quantize(-100)).isEqualTo(-128);
    // Ties to even, as QuantizeLinear rounds.
    ActivationQuantParams one = new ActivationQuantParams(1f, 0, true);
    assertThat(one.quantize(2.5f)).isEqualTo(2);
    assertThat(one.quantize(3.5f)).isEqualTo(4);
  }
}
