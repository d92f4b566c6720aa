package dev.compress.linalg;

import static dev.compress.linalg.Reference.commons;
import static dev.compress.linalg.Reference.maxDiff;
import static dev.compress.linalg.Reference.measured;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SolveTriangularTest {

  @ParameterizedTest
  @CsvSource({"true,false", "true,true", "false,false", "false,true"})
  void matchesCommonsMath(boolean lower, boolean transpose) {
    int n = 40;
    // a well-conditioned triangular factor: the Cholesky factor of an SPD matrix
    Matrix l = Linalg.cholesky(Reference.spd(n, 7));
    Matrix t = lower ? l : l.transpose();
    Matrix b = Reference.gaussian(n, 3, 8);
    Matrix x = Linalg.solveTriangular(t, b, lower, transpose);

    RealMatrix op = transpose ? commons(t).transpose() : commons(t);
    RealMatrix ref = new LUDecomposition(op).getSolver().solve(commons(b));
    double scale = x.maxAbs();
    assertThat(measured("SolveTriangularTest", maxDiff(x, ref) / scale))
        .isLessThan(1e-13); // measured 4.2e-16
  }

  @Test
  void readsOnlyTheNamedTriangle() {
    Matrix l = Linalg.cholesky(Reference.spd(5, 2));
    double[] junk = l.toArray();
    junk[0 * 5 + 4] = 123; // above the diagonal of a lower factor
    Matrix b = Reference.gaussian(5, 2, 3);
    assertThat(Linalg.solveTriangular(Matrix.wrap(5, 5, junk), b, true, false))
        .isEqualTo(Linalg.solveTriangular(l, b, true, false));
  }

  @Test
  void shapeMismatchNamesBothShapes() {
    assertThatThrownBy(
            () -> Linalg.solveTriangular(Matrix.identity(3), Matrix.zeros(4, 2), true, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("solveTriangular: t is 3x3 but b is 4x2; b needs 3 rows");
    assertThatThrownBy(() -> Linalg.multiply(Matrix.zeros(2, 3), Matrix.zeros(2, 3)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("a is 2x3 but b is 2x3");
  }

  @Test
  void singularFactorIsAnErrorNotNaN() {
    Matrix t = Matrix.of(2, 2, 1, 0, 1, 0);
    assertThatThrownBy(() -> Linalg.solveTriangular(t, Matrix.of(2, 1, 1, 1), true, false))
        .isInstanceOf(ArithmeticException.class)
        .hasMessageContaining("(1, 1) is zero");
    assertThatThrownBy(
            () ->
                Linalg.solveTriangular(Matrix.of(1, 1, 1e-300), Matrix.of(1, 1, 1e10), true, true))
        .isInstanceOf(ArithmeticException.class)
        .hasMessageContaining("overflows");
  }
}
