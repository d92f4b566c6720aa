package dev.compress.linalg;

import static dev.compress.linalg.Reference.commons;
import static dev.compress.linalg.Reference.measured;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EighTest {

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 10, 80})
  void matchesCommonsMath(int n) {
    // symmetric but indefinite: X + X^T
    Matrix x = Reference.gaussian(n, n, 41 + n);
    Matrix a = Matrix.wrap(n, n, sum(x, x.transpose()));
    SymmetricEigen eig = Linalg.eigh(a);
    EigenDecomposition ref = new EigenDecomposition(commons(a));

    double[] refValues = ref.getRealEigenvalues().clone();
    Arrays.sort(refValues);
    double[] values = eig.values();
    double worst = 0;
    for (int i = 0; i < n; i++) {
      worst = Math.max(worst, Math.abs(values[i] - refValues[i]));
      if (i > 0) {
        assertThat(values[i]).isGreaterThanOrEqualTo(values[i - 1]);
      }
    }
    assertThat(measured("EighTest", worst)).isLessThan(1e-12); // measured 3.2e-14 (n=80)

    // Vectors: Commons Math orders by descending value; compare each column up to sign.
    RealMatrix refVectors = ref.getV();
    Matrix reordered = Matrix.zeros(n, n);
    double[] ro = reordered.data();
    for (int j = 0; j < n; j++) {
      int refColumn = indexOf(ref.getRealEigenvalues(), values[j]);
      for (int i = 0; i < n; i++) {
        ro[i * n + j] = refVectors.getEntry(i, refColumn);
      }
    }
    assertThat(measured("EighTest", Reference.columnsUpToSign(eig.vectors(), reordered)))
        .isLessThan(1e-11); // measured 2.0e-15
    assertThat(measured("EighTest", Reference.orthonormalityError(eig.vectors())))
        .isLessThan(1e-13); // measured 2.1e-15

    // V diag(w) V^T reconstructs A
    Matrix vw = Matrix.wrap(n, n, eig.vectors().toArray());
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        vw.data()[i * n + j] *= values[j];
      }
    }
    assertThat(
            measured(
                "EighTest", Linalg.multiply(vw, eig.vectors().transpose()).maxAbsDifference(a)))
        .isLessThan(1e-12); // measured 1.2e-14
  }

  @Test
  void signConventionAndKnownSpectrum() {
    Matrix a = Matrix.of(2, 2, 2, 1, 1, 2); // eigenvalues 1, 3
    SymmetricEigen eig = Linalg.eigh(a);
    assertThat(eig.values())
        .containsExactly(new double[] {1, 3}, org.assertj.core.data.Offset.offset(1e-15));
    for (int j = 0; j < 2; j++) {
      double big = eig.vectors().get(0, j);
      if (Math.abs(eig.vectors().get(1, j)) > Math.abs(big)) {
        big = eig.vectors().get(1, j);
      }
      assertThat(big).isPositive();
    }
  }

  @Test
  void rejectsBadInput() {
    assertThatThrownBy(() -> Linalg.eigh(Matrix.zeros(2, 3)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("eigh: sym must be square, found 2x3");
    assertThatThrownBy(() -> Linalg.eigh(Matrix.of(1, 1, Double.POSITIVE_INFINITY)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Infinity at (0, 0)");
  }

  private static double[] sum(Matrix a, Matrix b) {
    double[] s = a.toArray();
    double[] t = b.data();
    for (int i = 0; i < s.length; i++) {
      s[i] += t[i];
    }
    return s;
  }

  private static int indexOf(double[] values, double v) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (Math.abs(values[i] - v) < Math.abs(values[best] - v)) {
        best = i;
      }
    }
    return best;
  }
}
