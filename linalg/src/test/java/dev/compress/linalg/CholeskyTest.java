package dev.compress.linalg;

import static dev.compress.linalg.Reference.commons;
import static dev.compress.linalg.Reference.maxDiff;
import static dev.compress.linalg.Reference.measured;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CholeskyTest {

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 7, 64, 129})
  void choleskyMatchesCommonsMath(int n) {
    Matrix a = Reference.spd(n, 11 + n);
    Matrix l = Linalg.cholesky(a);
    RealMatrix ref = new CholeskyDecomposition(commons(a)).getL();

    assertThat(measured("CholeskyTest", maxDiff(l, ref))).isLessThan(1e-13); // measured 8.9e-16
    for (int i = 0; i < n; i++) {
      assertThat(l.get(i, i)).isPositive();
      for (int j = i + 1; j < n; j++) {
        assertThat(l.get(i, j)).isZero(); // the other triangle is cleared, not left as input
      }
    }
    assertThat(measured("CholeskyTest", Linalg.multiply(l, l.transpose()).maxAbsDifference(a)))
        .isLessThan(1e-13); // measured 6.7e-16
  }

  @Test
  void readsOnlyTheLowerTriangle() {
    Matrix a = Reference.spd(9, 5);
    double[] junk = a.toArray();
    for (int i = 0; i < 9; i++) {
      for (int j = i + 1; j < 9; j++) {
        junk[i * 9 + j] = 1e6;
      }
    }
    Matrix lowerOnly = Matrix.wrap(9, 9, junk);
    assertThat(Linalg.cholesky(lowerOnly)).isEqualTo(Linalg.cholesky(a));
    assertThat(Linalg.choleskyOfInverse(lowerOnly, true))
        .isEqualTo(Linalg.choleskyOfInverse(a, true));
    assertThat(Linalg.eigh(lowerOnly)).isEqualTo(Linalg.eigh(a));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3, 50, 129})
  void choleskyInverseMatchesCommonsMath(int n) {
    Matrix a = Reference.spd(n, 21 + n);
    Matrix inv = Linalg.choleskyInverse(Linalg.cholesky(a));
    RealMatrix ref = new LUDecomposition(commons(a)).getSolver().getInverse();

    double scale = inv.maxAbs();
    assertThat(measured("CholeskyTest", maxDiff(inv, ref) / scale))
        .isLessThan(1e-12); // measured 2.5e-15
    assertThat(inv).isEqualTo(inv.transpose()); // exactly symmetric
    assertThat(
            measured("CholeskyTest", Linalg.multiply(a, inv).maxAbsDifference(Matrix.identity(n))))
        .isLessThan(1e-12); // measured 2.1e-15
    assertThat(Linalg.inverseSpd(a)).isEqualTo(inv);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 8, 100})
  void choleskyOfInverseMatchesTheNaiveRoute(int n) {
    Matrix a = Reference.spd(n, 31 + n);
    Matrix upper = Linalg.choleskyOfInverse(a, true);
    Matrix lower = Linalg.choleskyOfInverse(a, false);
    // the route GPTQ reference code takes: invert, then factor the inverse
    RealMatrix inverse = new LUDecomposition(commons(a)).getSolver().getInverse();
    RealMatrix refUpper = new CholeskyDecomposition(symmetrized(inverse), 1e-10, 1e-14).getLT();

    double scale = upper.maxAbs();
    assertThat(measured("CholeskyTest", maxDiff(upper, refUpper) / scale))
        .isLessThan(1e-12); // measured 1.0e-15
    assertThat(lower).isEqualTo(upper.transpose());
    for (int i = 0; i < n; i++) {
      assertThat(upper.get(i, i)).isPositive();
      for (int j = 0; j < i; j++) {
        assertThat(upper.get(i, j)).isZero();
      }
    }
  }

  @Test
  void notPositiveDefiniteNamesTheLeadingMinor() {
    // leading minors of order 1 and 2 are positive; order 3 is not (det = -3)
    Matrix a =
        Matrix.of(
            4, 4, 2, 1, 0, 0, //
            1, 2, 2, 0, //
            0, 2, 1, 0, //
            0, 0, 0, 5);
    assertThatThrownBy(() -> Linalg.cholesky(a))
        .isInstanceOf(NotPositiveDefiniteException.class)
        .hasMessageContaining("4x4")
        .hasMessageContaining("leading principal minor of order 3")
        .hasMessageContaining("HINT")
        .satisfies(
            e -> {
              NotPositiveDefiniteException npd = (NotPositiveDefiniteException) e;
              assertThat(npd.leadingMinorOrder()).isEqualTo(3);
              assertThat(npd.pivotIndex()).isEqualTo(2);
              assertThat(npd.size()).isEqualTo(4);
            });
    assertThatThrownBy(() -> Linalg.choleskyOfInverse(a, true))
        .isInstanceOf(NotPositiveDefiniteException.class)
        .hasMessageStartingWith("choleskyOfInverse:")
        .hasMessageContaining("leading principal minor of order 3");
    // a semi-definite Hessian (a dead input) fails rather than producing NaN
    Matrix semi = Matrix.of(2, 2, 1, 0, 0, 0);
    assertThatThrownBy(() -> Linalg.cholesky(semi))
        .isInstanceOf(NotPositiveDefiniteException.class)
        .hasMessageContaining("order 2");
  }

  @Test
  void rejectsBadShapesAndNonFiniteInput() {
    assertThatThrownBy(() -> Linalg.cholesky(Matrix.zeros(3, 4)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cholesky: spd must be square, found 3x4");
    assertThatThrownBy(() -> Linalg.choleskyOfInverse(Matrix.zeros(2, 1), true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2x1");
    Matrix nan = Matrix.of(2, 2, 1, 0, Double.NaN, 1);
    assertThatThrownBy(() -> Linalg.cholesky(nan))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cholesky: spd (2x2) holds NaN at (1, 0)");
    Matrix zeroDiagonal = Matrix.of(2, 2, 1, 0, 3, 0);
    assertThatThrownBy(() -> Linalg.choleskyInverse(zeroDiagonal))
        .isInstanceOf(ArithmeticException.class)
        .hasMessageContaining("diagonal element (1, 1) is zero");
  }

  @Test
  void overflowIsAnErrorNotInfinity() {
    assertThatThrownBy(() -> Linalg.choleskyInverse(Matrix.of(1, 1, 1e-200)))
        .isInstanceOf(ArithmeticException.class)
        .hasMessageContaining("overflows");
  }

  @Test
  void emptyMatrixIsFine() {
    assertThat(Linalg.cholesky(Matrix.zeros(0, 0)).rows()).isZero();
    assertThat(Linalg.choleskyOfInverse(Matrix.zeros(0, 0), true).rows()).isZero();
  }

  @Test
  void floatHessianRoundTrip() {
    Matrix a = Reference.spd(16, 3);
    Matrix fromFloats = Matrix.fromFloats(16, 16, a.toFloatArray());
    Matrix u = Linalg.choleskyOfInverse(fromFloats, true);
    assertThat(u.toFloatArray()).hasSize(256);
    assertThat(fromFloats.maxAbsDifference(a)).isLessThan(1e-6); // float rounding
  }

  private static RealMatrix symmetrized(RealMatrix m) {
    return m.add(m.transpose()).scalarMultiply(0.5);
  }
}
