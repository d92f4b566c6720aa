package dev.compress.linalg;

import static dev.compress.linalg.Reference.commons;
import static dev.compress.linalg.Reference.measured;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SvdTest {

  @ParameterizedTest
  @CsvSource({"1,1", "5,5", "30,12", "12,30", "60,45"})
  void exactMatchesCommonsMath(int m, int n) {
    Matrix a = Reference.gaussian(m, n, 100L * m + n);
    Svd svd = Linalg.svd(a);
    SingularValueDecomposition ref = new SingularValueDecomposition(commons(a));
    int r = Math.min(m, n);

    double[] s = svd.s();
    double[] refS = ref.getSingularValues();
    double worst = 0;
    for (int i = 0; i < r; i++) {
      worst = Math.max(worst, Math.abs(s[i] - refS[i]));
    }
    assertThat(measured("SvdTest", worst)).isLessThan(1e-12); // measured 2.0e-14
    assertThat(
            measured(
                "SvdTest", Reference.columnsUpToSign(svd.u(), Reference.ours(thin(ref.getU(), r)))))
        .isLessThan(1e-11); // measured 1.8e-15
    assertThat(
            measured(
                "SvdTest",
                Reference.columnsUpToSign(
                    svd.vt().transpose(), Reference.ours(thin(ref.getV(), r)))))
        .isLessThan(1e-11); // measured 2.0e-15
    assertThat(measured("SvdTest", svd.reconstruct().maxAbsDifference(a)))
        .isLessThan(1e-12); // measured 8.9e-15
  }

  @ParameterizedTest
  @CsvSource({"RANDOMIZED,300,200", "RANDOMIZED,200,300", "GRAM,300,200", "GRAM,200,300"})
  void fastMethodsMatchExactOnDecayingSpectrum(SvdMethod method, int m, int n) {
    // sigma_i = 0.8^i: the kind of spectrum low-rank compression relies on
    double[] sigma = new double[120];
    for (int i = 0; i < sigma.length; i++) {
      sigma[i] = Math.pow(0.8, i);
    }
    Matrix a = Reference.withSpectrum(m, n, sigma, 5);
    int k = 16;
    Svd exact = Linalg.truncatedSvd(a, k, SvdMethod.EXACT, 0);
    Svd fast = Linalg.truncatedSvd(a, k, method, 42);

    double[] s = fast.s();
    double worst = 0;
    double worstExact = 0;
    for (int i = 0; i < k; i++) {
      worst = Math.max(worst, Math.abs(s[i] - sigma[i]) / sigma[i]);
      worstExact = Math.max(worstExact, Math.abs(exact.s()[i] - sigma[i]) / sigma[i]);
    }
    assertThat(measured("SvdTest", worstExact)).isLessThan(1e-13); // measured 1.9e-15
    assertThat(measured("SvdTest", worst))
        .isLessThan(1e-9); // measured 1.7e-11 randomized, 5.2e-14 Gram
    assertThat(measured("SvdTest", Reference.orthonormalityError(fast.u())))
        .isLessThan(1e-12); // measured 1.0e-13 Gram, 2.9e-15 randomized
    assertThat(measured("SvdTest", Reference.orthonormalityError(fast.vt().transpose())))
        .isLessThan(1e-12); // measured 5.6e-14 Gram
    // same sign convention, so the vectors agree elementwise, not only up to sign
    assertThat(measured("SvdTest", fast.u().maxAbsDifference(exact.u())))
        .isLessThan(1e-5); // measured 9.3e-7 randomized (gap 0.8 past k), 2.1e-14 Gram
    assertThat(measured("SvdTest", fast.vt().maxAbsDifference(exact.vt())))
        .isLessThan(1e-5); // measured 1.0e-7 randomized, 1.5e-14 Gram
    // the rank-k error is the optimal one, sigma_k
    double err = spectralNormEstimate(minus(a, fast.reconstruct()));
    assertThat(measured("SvdTest", Math.abs(err / sigma[k] - 1)))
        .isLessThan(1e-10); // measured 1.3e-15
  }

  @Test
  void randomizedIsReproducibleForASeed() {
    Matrix a = Reference.gaussian(80, 60, 9);
    Svd one = Linalg.truncatedSvd(a, 5, SvdMethod.RANDOMIZED, 7);
    Svd two = Linalg.truncatedSvd(a, 5, SvdMethod.RANDOMIZED, 7);
    assertThat(one).isEqualTo(two);
  }

  @Test
  void autoCrossover() {
    assertThat(Linalg.autoMethod(512, 4096, 64)).isEqualTo(SvdMethod.EXACT);
    assertThat(Linalg.autoMethod(1024, 1024, 64)).isEqualTo(SvdMethod.RANDOMIZED);
    assertThat(Linalg.autoMethod(1024, 1024, 300)).isEqualTo(SvdMethod.EXACT); // sketch too wide
    assertThat(Linalg.autoMethod(4096, 11008, 256)).isEqualTo(SvdMethod.RANDOMIZED);
  }

  @Test
  void rejectsBadRank() {
    assertThatThrownBy(() -> Linalg.truncatedSvd(Matrix.zeros(3, 5), 4, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("truncatedSvd: k must be in [1, min(m, n)] = [1, 3] for a 3x5, found 4");
    assertThatThrownBy(() -> Linalg.truncatedSvd(Matrix.zeros(3, 5), 0, 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static RealMatrix thin(RealMatrix full, int r) {
    return full.getSubMatrix(0, full.getRowDimension() - 1, 0, r - 1);
  }

  private static Matrix minus(Matrix a, Matrix b) {
    double[] d = a.toArray();
    double[] e = b.data();
    for (int i = 0; i < d.length; i++) {
      d[i] -= e[i];
    }
    return Matrix.wrap(a.rows(), a.cols(), d);
  }

  /** The largest singular value, from the exact SVD (the residual is small). */
  private static double spectralNormEstimate(Matrix a) {
    return Linalg.truncatedSvd(a, 1, SvdMethod.EXACT, 0).s()[0];
  }
}
