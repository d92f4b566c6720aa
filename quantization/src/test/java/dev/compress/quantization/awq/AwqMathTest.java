package dev.compress.quantization.awq;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Known answers of the AWQ arithmetic. */
class AwqMathTest {
  @Test
  void alphaZeroGivesUnitScalesAndNormalizationCentresTheRange() {
    double[] sx = {0.5, 2, 8};
    float[] s0 = AwqMath.scales(sx, null, 0);
    assertThat(s0).containsExactly(1f, 1f, 1f);
    float[] s1 = AwqMath.scales(sx, null, 0.5);
    // sqrt(sx) = {0.707, 1.414, 2.828}; divided by sqrt(max * min) = sqrt(2): {0.5, 1, 2}.
    assertThat(s1[0]).isCloseTo(0.5f, org.assertj.core.data.Offset.offset(1e-6f));
    assertThat(s1[1]).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-6f));
    assertThat(s1[2]).isCloseTo(2f, org.assertj.core.data.Offset.offset(1e-6f));
    // clamp(1e-4) before normalization
    float[] tiny = AwqMath.scales(new double[] {0, 1}, null, 1);
    assertThat(tiny[1] / tiny[0]).isCloseTo(1e4f, org.assertj.core.data.Offset.offset(1f));
  }

  @Test
  void clipSearchNeverIncreasesTheOutputErrorAndHelpsOnHeavyTails() {
    Random r = new Random(3);
    int out = 48;
    int in = 128;
    int tokens = 256;
    float[] w = new float[out * in];
    for (int i = 0; i < w.length; i++) {
      // Student-t-like heavy tails: a Gaussian divided by a small random scale now and then.
      double g = r.nextGaussian();
      w[i] = (float) (r.nextInt(40) == 0 ? g * 8 : g) * 0.05f;
    }
    float[] x = new float[tokens * in];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    for (int group : new int[] {32, 128}) {
      float[] t = AwqMath.clipThresholds(w, out, in, x, tokens, 4, group, false);
      float[] none =
          dev.compress.quantization.grid.QuantizedMatrix.quantize(w, out, in, 4, group, false)
              .dequantize();
      float[] clipped =
          dev.compress.quantization.grid.QuantizedMatrix.quantize(
                  AwqMath.applyClip(w, out, in, group, t), out, in, 4, group, false)
              .dequantize();
      // Per row: each group's error can only go down, and groups add up within a row only
      // through cross terms, so compare row by row on the groups' own Gram (one group per row).
      double eNone = AwqMath.outputError(w, none, out, in, x, tokens);
      double eClip = AwqMath.outputError(w, clipped, out, in, x, tokens);
      System.out.printf(
          "[awq-clip] g%d output error: full range %.4e, clipped %.4e%n", group, eNone, eClip);
      assertThat(eClip).isLessThan(eNone);
      if (group == in) {
        // One group per row: the search minimises exactly each row's error.
        for (int row = 0; row < out; row++) {
          double a = rowError(w, none, row, in, x, tokens);
          double b = rowError(w, clipped, row, in, x, tokens);
          assertThat(b).isLessThanOrEqualTo(a * (1 + 1e-9));
        }
      }
    }
  }

  private static double rowError(float[] w, float[] q, int row, int in, float[] x, int tokens) {
    double err = 0;
    for (int t = 0; t < tokens; t++) {
      double acc = 0;
      for (int j = 0; j < in; j++) {
        acc += (double) x[t * in + j] * (q[row * in + j] - w[row * in + j]);
      }
      err += acc * acc;
    }
    return err;
  }
}
