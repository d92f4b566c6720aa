package dev.compress.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.tensor.Tensor;
import dev.compress.training.data.TensorExamples;
import dev.compress.training.loop.TrainConfig;
import dev.compress.training.loss.Losses;
import dev.compress.training.optim.LrSchedule;
import dev.compress.training.quant.FakeQuant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The engine-free pieces against their formulas, on DJL's PyTorch engine directly. */
class TrainingPiecesTest {

  @Test
  void lossesEqualTheirFormulas() {
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      float[] a = {1, 2, 3, -1, 0.5f, 2};
      float[] b = {0.5f, 2, 1, 1, -0.5f, 2};
      NDArray x = m.create(a, new Shape(2, 3));
      NDArray y = m.create(b, new Shape(2, 3));
      double mse = 0;
      for (int i = 0; i < 6; i++) {
        mse += (a[i] - b[i]) * (a[i] - b[i]) / 6.0;
      }
      assertThat(Losses.mse(x, y).getFloat()).isCloseTo((float) mse, offset(1e-6f));
      double cos = 0;
      for (int r = 0; r < 2; r++) {
        double d = 0, na = 0, nb = 0;
        for (int j = 0; j < 3; j++) {
          d += a[r * 3 + j] * b[r * 3 + j];
          na += a[r * 3 + j] * a[r * 3 + j];
          nb += b[r * 3 + j] * b[r * 3 + j];
        }
        cos += (1 - d / Math.sqrt(na * nb)) / 2;
      }
      assertThat(Losses.cosine(x, y).getFloat()).isCloseTo((float) cos, offset(1e-6f));
      double t = 2.5;
      double kl = 0;
      for (int r = 0; r < 2; r++) {
        double[] p = softmax(a, r, t);
        double[] q = softmax(b, r, t);
        for (int j = 0; j < 3; j++) {
          kl += p[j] * Math.log(p[j] / q[j]) / 2;
        }
      }
      assertThat(Losses.klDivergence(x, y, t).getFloat())
          .isCloseTo((float) (kl * t * t), offset(1e-5f));
      NDArray labels = m.create(new long[] {2, 0});
      double ce = -(Math.log(softmax(a, 0, 1)[2]) + Math.log(softmax(a, 1, 1)[0])) / 2;
      assertThat(Losses.crossEntropy(x, labels).getFloat()).isCloseTo((float) ce, offset(1e-6f));
      assertThatThrownBy(() -> Losses.crossEntropy(x, m.create(new long[] {1, 2, 0})))
          .hasMessageContaining("do not match logits");
      assertThatThrownBy(() -> Losses.klDivergence(x, y, 0)).hasMessageContaining("temperature");
    }
  }

  static double[] softmax(float[] v, int row, double t) {
    double[] e = new double[3];
    double s = 0;
    for (int j = 0; j < 3; j++) {
      e[j] = Math.exp(v[row * 3 + j] / t);
      s += e[j];
    }
    for (int j = 0; j < 3; j++) {
      e[j] /= s;
    }
    return e;
  }

  @Test
  void nextTokenCrossEntropyPredictsTheShiftedIdsAndItsGradientIsSoftmaxMinusOneHot() {
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      int b = 2;
      int s = 3;
      int v = 4;
      float[] z = new float[b * s * v];
      for (int i = 0; i < z.length; i++) {
        z[i] = (float) Math.sin(1.7 * i + 0.3) * 2;
      }
      long[] ids = {1, 3, 0, 2, 2, 1};
      NDArray logits = m.create(z, new Shape(b, s, v));
      logits.setRequiresGradient(true);
      NDArray loss;
      try (GradientCollector gc = m.getEngine().newGradientCollector()) {
        loss = Losses.nextTokenCrossEntropy(logits, m.create(ids, new Shape(b, s)));
        gc.backward(loss);
      }
      // Reference: positions t < s - 1 of each row predict ids[t + 1]; 4 predictions.
      double want = 0;
      double[] grad = new double[z.length];
      int n = b * (s - 1);
      for (int r = 0; r < b; r++) {
        for (int t = 0; t < s - 1; t++) {
          int o = (r * s + t) * v;
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < v; j++) {
            max = Math.max(max, z[o + j]);
          }
          double sum = 0;
          for (int j = 0; j < v; j++) {
            sum += Math.exp(z[o + j] - max);
          }
          int target = (int) ids[r * s + t + 1];
          want -= (z[o + target] - max - Math.log(sum)) / n;
          for (int j = 0; j < v; j++) {
            grad[o + j] = (Math.exp(z[o + j] - max) / sum - (j == target ? 1 : 0)) / n;
          }
        }
      }
      assertThat(loss.getFloat()).isCloseTo((float) want, offset(1e-5f));
      float[] got = logits.getGradient().toFloatArray();
      for (int i = 0; i < z.length; i++) {
        assertThat((double) got[i]).as("dL/dlogits[" + i + "]").isCloseTo(grad[i], offset(1e-6));
      }
      assertThatThrownBy(
              () ->
                  Losses.nextTokenCrossEntropy(
                      logits, m.create(new long[] {1, 2}, new Shape(2, 1))))
          .hasMessageContaining("nextTokenCrossEntropy");
    }
  }

  @Test
  void scheduleWarmsUpThenDecays() {
    LrSchedule cos = new LrSchedule(1.0, 10, 110, LrSchedule.Decay.COSINE, 0.1);
    assertThat(cos.lr(0)).isCloseTo(0.1, offset(1e-12));
    assertThat(cos.lr(9)).isCloseTo(1.0, offset(1e-12));
    assertThat(cos.lr(10)).isCloseTo(1.0, offset(1e-12));
    assertThat(cos.lr(60)).isCloseTo(0.55, offset(1e-12)); // half way: the mean of peak and min
    assertThat(cos.lr(110)).isCloseTo(0.1, offset(1e-12));
    LrSchedule lin = new LrSchedule(1.0, 0, 100, LrSchedule.Decay.LINEAR, 0);
    assertThat(lin.lr(25)).isCloseTo(0.75, offset(1e-12));
  }

  @Test
  void configNamesTheKey() {
    assertThatThrownBy(
            () -> TrainConfig.builder().optSteps(0).optOptimizer("lion").optWarmup(1).build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("steps must be >= 1, found 0")
        .hasMessageContaining("optimizer must be adamw or sgd, found 'lion'")
        .hasMessageContaining("warmup must be a fraction in [0, 1), found 1.0");
    assertThat(TrainConfig.defaults().warmupSteps()).isEqualTo(10);
  }

  @Test
  void examplesStackWithZeroPadding() {
    Map<String, Tensor> b1 =
        Map.of("ids", Tensor.ofLongs("ids", new long[] {2, 3}, 1, 2, 3, 4, 5, 6));
    Map<String, Tensor> b2 = Map.of("ids", Tensor.ofLongs("ids", new long[] {1, 2}, 7, 8));
    TensorExamples ex = TensorExamples.fromBatches(List.of(b1, b2));
    assertThat(ex.size()).isEqualTo(3);
    Tensor b = ex.batch(new int[] {2, 0}).get("ids");
    assertThat(b.shape()).containsExactly(2, 3);
    assertThat(b.toLongArray()).containsExactly(7, 8, 0, 1, 2, 3);
  }

  @Test
  void fakeQuantHasTheGridValueAndAStraightThroughGradient() {
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      // MatMul weight [in 4, out 2]: per output channel along axis 0.
      float[] w = {0.9f, -0.1f, -0.5f, 0.2f, 0.3f, 0.05f, 0.1f, -0.4f};
      NDArray x = m.create(w, new Shape(4, 2));
      x.setRequiresGradient(true);
      FakeQuant fq = new FakeQuant(4, true, 0, 0);
      NDArray q;
      try (GradientCollector gc = m.getEngine().newGradientCollector()) {
        q = fq.apply(x);
        gc.backward(q.mul(m.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, new Shape(4, 2))).sum());
      }
      float[] got = q.toFloatArray();
      float[] amax = {0.9f, 0.4f};
      for (int i = 0; i < 8; i++) {
        float s = amax[i % 2] / 7;
        float ref = Math.max(-8, Math.min(7, Math.round(w[i] / s))) * s;
        assertThat(got[i]).as("q[" + i + "]").isCloseTo(ref, offset(1e-6f));
      }
      assertThat(x.getGradient().toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
      // int4 asymmetric groups of 2 along axis 0: group (w[0], w[2]) = (0.9, -0.5) has s = 1.4/15,
      // zero round(0.5/s) = 5, so 0.9 -> (round(0.9/s) + 5 - 5) * s = 10 s = 0.9333 (the grid's
      // rounded zero point shifts the range, as in the GPTQ reference).
      float[] g = new FakeQuant(4, false, 0, 2).quantizeDequantize(x.stopGradient()).toFloatArray();
      float s = 1.4f / 15;
      assertThat(g[0]).isCloseTo(10 * s, offset(1e-6f));
      assertThat(g[2]).isCloseTo(-5 * s, offset(1e-6f));
    }
  }
}
