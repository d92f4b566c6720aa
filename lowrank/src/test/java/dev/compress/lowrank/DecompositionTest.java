package dev.compress.lowrank;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.linalg.Linalg;
import dev.compress.linalg.Matrix;
import dev.compress.lowrank.asvd.AsvdDecomposer;
import dev.compress.lowrank.svd.SvdDecomposer;
import dev.compress.lowrank.svdllm.SvdLlmDecomposer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The three decompositions on small seeded matrices: exactness at full rank, SVD-LLM's loss. */
class DecompositionTest {
  static final int M = 12;
  static final int N = 20;

  static Matrix gaussian(long seed, int rows, int cols, boolean scaledCols) {
    Random r = new Random(seed);
    double[] a = new double[rows * cols];
    for (int i = 0; i < rows; i++) {
      double common = r.nextGaussian();
      for (int j = 0; j < cols; j++) {
        a[i * cols + j] =
            scaledCols ? (1 + j % 7) * (r.nextGaussian() + 0.5 * common) : r.nextGaussian();
      }
    }
    return Matrix.wrap(rows, cols, a);
  }

  static double[] meanAbs(Matrix x) {
    double[] m = new double[x.cols()];
    for (int i = 0; i < x.rows(); i++) {
      for (int j = 0; j < x.cols(); j++) {
        m[j] += Math.abs(x.get(i, j)) / x.rows();
      }
    }
    return m;
  }

  @Test
  void fullRankReproducesTheWeightForEveryMethod() {
    Matrix w = gaussian(1, M, N, false);
    Matrix x = gaussian(2, 64, N, true); // 64 tokens > 20 features: X^T X positive definite
    Matrix s = Linalg.cholesky(Linalg.multiply(x.transpose(), x));
    int r = Math.min(M, N);
    Decomposition svd =
        new SvdDecomposer()
            .decompose(new LayerInput(null, w, null, null, 0), null, r, new java.util.HashMap<>());
    Decomposition asvd = AsvdDecomposer.decompose(w, meanAbs(x), 0.5, r, 0);
    Decomposition llm = SvdLlmDecomposer.decompose(w, s, r, 0);
    System.out.printf(
        "[lowrank] full-rank max |W - Wu Wv|: svd %.1e asvd %.1e svd-llm %.1e%n",
        svd.factors(r).product().maxAbsDifference(w),
        asvd.factors(r).product().maxAbsDifference(w),
        llm.factors(r).product().maxAbsDifference(w));
    assertThat(svd.factors(r).product().maxAbsDifference(w)).isLessThan(1e-12); // measured 4.4e-15
    assertThat(asvd.factors(r).product().maxAbsDifference(w)).isLessThan(1e-12); // measured 5.8e-15
    assertThat(llm.factors(r).product().maxAbsDifference(w)).isLessThan(1e-10); // measured 7.9e-15
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4, 8, 11})
  void svdLlmOutputErrorIsTheDroppedSingularValues(int k) {
    Matrix w = gaussian(3, M, N, false);
    Matrix x = gaussian(4, 64, N, true); // rows are tokens
    Matrix s = Linalg.cholesky(Linalg.multiply(x.transpose(), x));
    Decomposition d = SvdLlmDecomposer.decompose(w, s, Math.min(M, N), 0);
    double[] sigma = d.singularValues();
    double dropped = 0;
    for (int i = k; i < sigma.length; i++) {
      dropped += sigma[i] * sigma[i];
    }
    // ||(W - W') X^T||_F, computed from the activations themselves
    Matrix e = minus(w, d.factors(k).product());
    double loss = frobenius(Linalg.multiply(e, x.transpose()));
    System.out.printf(
        "[lowrank] k=%d loss %.12g sqrt(sum dropped sigma^2) %.12g%n", k, loss, Math.sqrt(dropped));
    assertThat(loss)
        .isCloseTo(Math.sqrt(dropped), org.assertj.core.data.Percentage.withPercentage(1e-6));
    if (k == sigma.length - 1) {
      // dropping exactly one singular value costs exactly that value
      assertThat(loss).isCloseTo(sigma[k], org.assertj.core.data.Percentage.withPercentage(1e-6));
    }
    // and the whitened truncation is the best of the three in output error
    Decomposition plain = AsvdDecomposer.decompose(w, meanAbs(x), 0.0, Math.min(M, N), 0);
    double plainLoss =
        frobenius(Linalg.multiply(minus(w, plain.factors(k).product()), x.transpose()));
    assertThat(loss).isLessThanOrEqualTo(plainLoss * (1 + 1e-9));
  }

  static Matrix minus(Matrix a, Matrix b) {
    double[] d = a.toArray();
    double[] bb = b.toArray();
    for (int i = 0; i < d.length; i++) {
      d[i] -= bb[i];
    }
    return Matrix.wrap(a.rows(), a.cols(), d);
  }

  static double frobenius(Matrix a) {
    double s = 0;
    for (double v : a.toArray()) {
      s += v * v;
    }
    return Math.sqrt(s);
  }
}
