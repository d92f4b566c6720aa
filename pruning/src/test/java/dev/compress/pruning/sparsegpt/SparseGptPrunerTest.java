package dev.compress.pruning.sparsegpt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.calibration.hessian.HessianAccumulator;
import dev.compress.fixtures.ResidualBlocks;
import dev.compress.pruning.mask.ScoreMasks;
import dev.compress.pruning.mask.SparsityPattern;
import dev.compress.pruning.wanda.WandaPass;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** SparseGPT's known answers on one layer with correlated inputs, against the plain methods. */
class SparseGptPrunerTest {
  static final int ROWS = 24;
  static final int COLS = 200; // two lazy blocks of 128 + 72
  static final int TOKENS = 600;

  final float[] w = ResidualBlocks.matrix("w", ROWS, COLS, new SplittableRandom(3)).toFloatArray();
  final float[] x = ResidualBlocks.correlated(TOKENS, COLS, 11); // (tokens, cols)

  private double[] hessian() {
    HessianAccumulator h = new HessianAccumulator(COLS);
    h.add(x, TOKENS, 1);
    return h.hessian();
  }

  private SparseGptPruner.Result prune(double s, SparsityPattern p) {
    return SparseGptPruner.prune(w, ROWS, COLS, hessian(), s, p, 128, 0.01, 1.0);
  }

  /** {@code ||(W - W') X^T||_F^2 / ||W X^T||_F^2}. */
  private double outputError(float[] pruned) {
    double num = 0;
    double den = 0;
    for (int t = 0; t < TOKENS; t++) {
      for (int r = 0; r < ROWS; r++) {
        double y = 0;
        double yp = 0;
        for (int c = 0; c < COLS; c++) {
          y += (double) w[r * COLS + c] * x[t * COLS + c];
          yp += (double) pruned[r * COLS + c] * x[t * COLS + c];
        }
        num += (y - yp) * (y - yp);
        den += y * y;
      }
    }
    return num / den;
  }

  private static long zeros(float[] v) {
    long z = 0;
    for (float f : v) {
      z += f == 0f ? 1 : 0;
    }
    return z;
  }

  private float[] masked(boolean[] mask) {
    float[] out = w.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] = mask[i] ? 0f : out[i];
    }
    return out;
  }

  private float[] magnitude(SparsityPattern p, double s) {
    double[] score = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      score[i] = Math.abs(w[i]);
    }
    if (!p.unstructured()) {
      return masked(ScoreMasks.nOfM(score, ROWS, COLS, p));
    }
    boolean[] mask = new boolean[w.length];
    ScoreMasks.lowest(score, 0, 1, w.length, (int) Math.rint(s * w.length), mask);
    return masked(mask);
  }

  @Test
  void zeroSparsityEqualsTheDenseLayer() {
    SparseGptPruner.Result r = prune(0, SparsityPattern.UNSTRUCTURED);
    assertThat(r.weight()).containsExactly(w);
    assertThat(r.loss()).isZero();
  }

  @Test
  void perLayerSparsityIsExactAndRowsVary() {
    for (double s : new double[] {0.5, 0.3, 0.77}) {
      float[] p = prune(s, SparsityPattern.UNSTRUCTURED).weight();
      assertThat(zeros(p)).isEqualTo(Math.round(Math.rint(s * ROWS * COLS)));
    }
    float[] p = prune(0.5, SparsityPattern.UNSTRUCTURED).weight();
    long min = COLS;
    long max = 0;
    for (int r = 0; r < ROWS; r++) {
      long z = 0;
      for (int c = 0; c < COLS; c++) {
        z += p[r * COLS + c] == 0f ? 1 : 0;
      }
      min = Math.min(min, z);
      max = Math.max(max, z);
    }
    assertThat(max).isGreaterThan(min); // one threshold per rows x block, not per row
  }

  @Test
  void nOfMHasTheExactPatternInEveryGroup() {
    for (SparsityPattern pat :
        new SparsityPattern[] {new SparsityPattern(2, 4), new SparsityPattern(4, 8)}) {
      float[] p = prune(0, pat).weight();
      for (int r = 0; r < ROWS; r++) {
        for (int g = 0; g < COLS; g += pat.m()) {
          int z = 0;
          for (int k = 0; k < pat.m(); k++) {
            z += p[r * COLS + g + k] == 0f ? 1 : 0;
          }
          assertThat(z).as("row %d group %d of %s", r, g, pat).isEqualTo(pat.n());
        }
      }
    }
  }

  @Test
  void beatsWandaAndMagnitudeOnOutputErrorWithCorrelatedInputs() {
    double[] diag = new double[COLS];
    double[] h = hessian();
    for (int j = 0; j < COLS; j++) {
      diag[j] = h[j * COLS + j];
    }
    for (SparsityPattern pat :
        new SparsityPattern[] {SparsityPattern.UNSTRUCTURED, new SparsityPattern(2, 4)}) {
      double sg = outputError(prune(0.5, pat).weight());
      double wa = outputError(masked(WandaPass.mask(w, ROWS, COLS, diag, pat, 0.5)));
      double mag = outputError(magnitude(pat, 0.5));
      System.out.printf(
          "[sparsegpt-layer] %s relative output error: sparsegpt %.4f wanda %.4f magnitude %.4f%n",
          pat, sg, wa, mag);
      // measured: 50% sparsegpt 0.0039, wanda 0.0054, magnitude 0.0581;
      //           2:4 sparsegpt 0.0122, wanda 0.0206, magnitude 0.0918
      assertThat(sg).isLessThan(0.9 * wa);
      assertThat(wa).isLessThan(mag);
    }
  }
}
