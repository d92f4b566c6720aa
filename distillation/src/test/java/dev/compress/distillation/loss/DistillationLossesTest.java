package dev.compress.distillation.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each loss against the formula written out in plain double arithmetic. */
class DistillationLossesTest {
  private static NDManager nd;

  @BeforeAll
  static void open() {
    nd = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    nd.close();
  }

  private static float[] gaussian(long seed, int n) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian() * 2;
    }
    return v;
  }

  private static double[] softmax(float[] z, int off, int n, double t) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, z[off + i] / t);
    }
    double sum = 0;
    double[] p = new double[n];
    for (int i = 0; i < n; i++) {
      p[i] = Math.exp(z[off + i] / t - max);
      sum += p[i];
    }
    for (int i = 0; i < n; i++) {
      p[i] /= sum;
    }
    return p;
  }

  @Test
  void softTargetsAreHintonsKlTimesTSquaredMixedWithHardCrossEntropy() {
    int rows = 4;
    int classes = 5;
    float[] s = gaussian(1, rows * classes);
    float[] t = gaussian(2, rows * classes);
    long[] y = {0, 3, 4, 1};
    float temp = 3f;
    float lambda = 0.25f;
    double kl = 0;
    double ce = 0;
    for (int r = 0; r < rows; r++) {
      double[] ps = softmax(s, r * classes, classes, temp);
      double[] pt = softmax(t, r * classes, classes, temp);
      for (int c = 0; c < classes; c++) {
        kl += pt[c] * Math.log(pt[c] / ps[c]);
      }
      ce -= Math.log(softmax(s, r * classes, classes, 1)[(int) y[r]]);
    }
    kl /= rows;
    ce /= rows;
    double want = lambda * ce + (1 - lambda) * temp * temp * kl;
    try (NDManager m = nd.newSubManager()) {
      NDArray sa = m.create(s, new Shape(rows, classes));
      NDArray ta = m.create(t, new Shape(rows, classes));
      NDArray ya = m.create(y);
      assertThat(DistillationLosses.softTargets(sa, ta, ya, temp, lambda).getFloat())
          .isCloseTo((float) want, within(1e-5f));
      assertThat(DistillationLosses.softTargets(sa, ta, null, temp, 0).getFloat())
          .isCloseTo((float) (temp * temp * kl), within(1e-5f));
      assertThat(DistillationLosses.softTargets(sa, sa, null, temp, 0).getFloat())
          .isCloseTo(0f, within(1e-6f));
      assertThatThrownBy(() -> DistillationLosses.softTargets(sa, ta, null, temp, 0.5f))
          .hasMessage("hard-label weight 0.5 needs labels, and the data has none");
      NDArray wrong = m.create(t, new Shape(classes, rows));
      assertThatThrownBy(() -> DistillationLosses.softTargets(sa, wrong, null, temp, 0))
          .hasMessage("student logits (4, 5) and teacher logits (5, 4) differ in shape");
    }
  }

  @Test
  void hiddenAndPooledLossesCountOnlyTheTokensTheMaskKeeps() {
    int b = 2;
    int tok = 3;
    int d = 4;
    float[] s = gaussian(3, b * tok * d);
    float[] t = gaussian(4, b * tok * d);
    long[] mask = {1, 1, 1, 1, 1, 0}; // the second row's last token is padding
    double mse = 0;
    double cos = 0;
    int kept = 0;
    double[][] es = new double[b][d];
    double[][] et = new double[b][d];
    for (int i = 0; i < b; i++) {
      int n = 0;
      for (int j = 0; j < tok; j++) {
        if (mask[i * tok + j] == 0) {
          continue;
        }
        n++;
        kept++;
        double dot = 0;
        double ns = 0;
        double nt = 0;
        for (int k = 0; k < d; k++) {
          int at = (i * tok + j) * d + k;
          mse += (s[at] - t[at]) * (s[at] - t[at]);
          dot += s[at] * t[at];
          ns += s[at] * s[at];
          nt += t[at] * t[at];
          es[i][k] += s[at];
          et[i][k] += t[at];
        }
        cos += 1 - dot / Math.sqrt(ns * nt);
      }
      for (int k = 0; k < d; k++) {
        es[i][k] /= n;
        et[i][k] /= n;
      }
    }
    double pooledMse = 0;
    double pooledCos = 0;
    for (int i = 0; i < b; i++) {
      double dot = 0;
      double ns = 0;
      double nt = 0;
      for (int k = 0; k < d; k++) {
        pooledMse += (es[i][k] - et[i][k]) * (es[i][k] - et[i][k]);
        dot += es[i][k] * et[i][k];
        ns += es[i][k] * es[i][k];
        nt += et[i][k] * et[i][k];
      }
      pooledCos += 1 - dot / Math.sqrt(ns * nt);
    }
    try (NDManager m = nd.newSubManager()) {
      NDArray sa = m.create(s, new Shape(b, tok, d));
      NDArray ta = m.create(t, new Shape(b, tok, d));
      NDArray ma = m.create(mask, new Shape(b, tok));
      assertThat(DistillationLosses.hiddenMse(sa, ta, ma).getFloat())
          .isCloseTo((float) (mse / (kept * d)), within(1e-5f));
      assertThat(DistillationLosses.hiddenCosine(sa, ta, ma).getFloat())
          .isCloseTo((float) (cos / kept), within(1e-5f));
      assertThat(DistillationLosses.pooledMse(sa, ta, ma).getFloat())
          .isCloseTo((float) (pooledMse / (b * d)), within(1e-5f));
      assertThat(DistillationLosses.pooledCosine(sa, ta, ma).getFloat())
          .isCloseTo((float) (pooledCos / b), within(1e-5f));
      NDArray shortMask = m.create(new long[] {1, 1}, new Shape(1, 2));
      assertThatThrownBy(() -> DistillationLosses.pooledMse(sa, ta, shortMask))
          .hasMessage("attention mask (1, 2) does not match the hidden state (2, 3, 4)");
    }
  }

  @Test
  void gradientsReachTheStudentOnly() {
    try (NDManager m = nd.newSubManager()) {
      NDArray sa = m.create(gaussian(5, 24), new Shape(2, 3, 4));
      NDArray ta = m.create(gaussian(6, 24), new Shape(2, 3, 4));
      NDArray ma = m.ones(new Shape(2, 3)).toType(ai.djl.ndarray.types.DataType.INT64, false);
      sa.setRequiresGradient(true);
      try (ai.djl.training.GradientCollector g =
          ai.djl.engine.Engine.getInstance().newGradientCollector()) {
        g.backward(DistillationLosses.pooledMse(sa, ta, ma));
      }
      // d/ds mean((mean_t s - mean_t t)^2) = 2 (es - et) / (b d) / tokens, for every token
      float[] grad = sa.getGradient().toFloatArray();
      float[] s = sa.toFloatArray();
      float[] t = ta.toFloatArray();
      for (int i = 0; i < 2; i++) {
        for (int k = 0; k < 4; k++) {
          double diff = 0;
          for (int j = 0; j < 3; j++) {
            diff += (s[(i * 3 + j) * 4 + k] - t[(i * 3 + j) * 4 + k]) / 3.0;
          }
          for (int j = 0; j < 3; j++) {
            assertThat(grad[(i * 3 + j) * 4 + k])
                .isCloseTo((float) (2 * diff / 8 / 3), within(1e-6f));
          }
        }
      }
    }
  }
}
