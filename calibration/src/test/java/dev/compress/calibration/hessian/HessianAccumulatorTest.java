package dev.compress.calibration.hessian;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HessianAccumulatorTest {

  @Test
  void runningMeanIsTwoOverNTimesXtX() {
    HessianAccumulator h = new HessianAccumulator(2);
    h.add(new float[] {1, 2}, 1, 1); // X^T X = [[1, 2], [2, 4]], n = 1
    h.add(new float[] {3, 0, 0, 1}, 2, 1); // + [[9, 0], [0, 1]], n = 2
    assertThat(h.hessian()).containsExactly(10, 2, 2, 5); // 2/2 (sum of both)
    assertThat(h.samples()).isEqualTo(2);
    assertThat(h.tokens()).isEqualTo(3);
  }

  @Test
  void sharedReadersGetCopiesAndTheLastTheMatrixItself() {
    HessianAccumulator h = new HessianAccumulator(2).share().share(); // q, k, v
    h.add(new float[] {1, 1}, 1, 1);
    double[] q = h.take();
    double[] k = h.take();
    q[0] = -1; // a reader may change its copy
    assertThat(k).containsExactly(2, 2, 2, 2);
    double[] v = h.take();
    assertThat(v).containsExactly(2, 2, 2, 2).isNotSameAs(k);
    assertThat(h.readers()).isZero();
    assertThatThrownBy(h::take).hasMessageContaining("taken by all its readers");
  }
}
