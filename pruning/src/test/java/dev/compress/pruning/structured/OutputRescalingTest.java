package dev.compress.pruning.structured;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.calibration.activation.TokenRows;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The bias compensation formula, the least-squares scales and FLAP's score on known answers. */
class OutputRescalingTest {
  static final int C = 6;
  static final int OUT = 5;
  static final int T = 400;

  static SinkStats stats(float[] x) {
    SinkStats s = new SinkStats(C, true);
    s.add(new TokenRows(x, T, C, 1));
    return s;
  }

  static float[] data(long seed) {
    Random r = new Random(seed);
    float[] x = new float[T * C];
    for (int t = 0; t < T; t++) {
      for (int j = 0; j < C; j++) {
        x[t * C + j] = (float) (r.nextGaussian() * (1 + j) + (j - 2));
      }
    }
    return x;
  }

  static float[] weights(long seed) {
    Random r = new Random(seed);
    float[] w = new float[C * OUT];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    return w;
  }

  @Test
  void biasCompensationAddsTheRemovedChannelsMeanOutput() {
    float[] x = data(1);
    float[] w = weights(2);
    int[] keep = {0, 2, 3, 5};
    OutputRescaling.Result r = OutputRescaling.solve(w, OUT, 1, C, keep, stats(x), false, true, 0);
    // b += W[:, pruned] . mean(X_pruned), pruned = {1, 4}
    for (int o = 0; o < OUT; o++) {
      double expect = 0;
      for (int j : new int[] {1, 4}) {
        double mean = 0;
        for (int t = 0; t < T; t++) {
          mean += x[t * C + j];
        }
        expect += w[j * OUT + o] * mean / T;
      }
      assertThat((double) r.biasDelta()[o])
          .isCloseTo(expect, org.assertj.core.data.Offset.offset(1e-5));
    }
  }

  @Test
  void leastSquaresScalesMatchANormalEquationsSolveAndStayInRange() {
    float[] x = data(3);
    float[] w = weights(4);
    // make channel 1 a copy of channel 0, so dropping 1 is exactly undone by scale 2 on channel 0
    for (int t = 0; t < T; t++) {
      x[t * C + 1] = x[t * C];
    }
    for (int o = 0; o < OUT; o++) {
      w[1 * OUT + o] = w[o];
    }
    int[] keep = {0, 2, 3, 4, 5};
    OutputRescaling.Result r = OutputRescaling.solve(w, OUT, 1, C, keep, stats(x), true, false, 0);
    assertThat(r.scales()[0]).isCloseTo(2.0, org.assertj.core.data.Offset.offset(1e-6));
    for (int p = 1; p < keep.length; p++) {
      assertThat(r.scales()[p]).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
    }
    assertThat(r.errorAfter()).isLessThan(1e-6);
    assertThat(r.errorBefore()).isGreaterThan(0.1);
  }

  @Test
  void fluctuationIsVarianceTimesSquaredRowNorm() {
    float[] x = data(5);
    SinkStats s = stats(x);
    for (int j = 0; j < C; j++) {
      double mean = 0;
      double sq = 0;
      for (int t = 0; t < T; t++) {
        mean += x[t * C + j];
        sq += x[t * C + j] * (double) x[t * C + j];
      }
      mean /= T;
      assertThat(s.meanSquare(j) - s.mean(j) * s.mean(j))
          .isCloseTo(sq / T - mean * mean, org.assertj.core.data.Offset.offset(1e-6));
    }
  }
}
