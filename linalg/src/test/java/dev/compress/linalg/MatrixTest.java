package dev.compress.linalg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MatrixTest {

  @Test
  void factoriesCopyAndValidate() {
    double[] d = {1, 2, 3, 4, 5, 6};
    Matrix m = Matrix.of(2, 3, d);
    d[0] = 99;
    assertThat(m.get(0, 0)).isEqualTo(1);
    assertThat(m.shape()).isEqualTo("2x3");
    assertThat(m.toArray2D()).isDeepEqualTo(new double[][] {{1, 2, 3}, {4, 5, 6}});
    assertThat(Matrix.of(m.toArray2D())).isEqualTo(m);
    assertThat(m.transpose().toArray()).containsExactly(1, 4, 2, 5, 3, 6);
    assertThatThrownBy(() -> Matrix.of(2, 2, 1, 2, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a 2x2 matrix needs 4 elements, found 3");
    assertThatThrownBy(() -> Matrix.of(new double[][] {{1, 2}, {3}}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("row 1 has 1 columns, row 0 has 2");
    assertThatThrownBy(() -> m.get(2, 0)).isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void floatsRoundTrip() {
    float[] f = {1.5f, -2.25f, 3e-8f, 7f};
    assertThat(Matrix.fromFloats(2, 2, f).toFloatArray()).containsExactly(f);
  }

  @Test
  void largeTransposeIsCorrect() {
    Matrix a = Reference.gaussian(130, 67, 1);
    Matrix t = a.transpose();
    assertThat(t.get(66, 129)).isEqualTo(a.get(129, 66));
    assertThat(t.transpose()).isEqualTo(a);
  }
}
