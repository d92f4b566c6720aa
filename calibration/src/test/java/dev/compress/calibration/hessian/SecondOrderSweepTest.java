package dev.compress.calibration.hessian;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class SecondOrderSweepTest {

  @Test
  void deadColumnsAreZeroedAndGetAUnitDiagonal() {
    double[] h = {2, 0, 0, 0}; // column 1 never saw a non-zero input
    double[] w = {1, 2, 3, 4};
    assertThat(SecondOrderSweep.zeroDeadColumns(h, w, 2, 2)).isEqualTo(1);
    assertThat(h).containsExactly(2, 0, 0, 1);
    assertThat(w).containsExactly(1, 0, 3, 0);
  }

  @Test
  void dampingEscalatesTenfoldUntilTheFactorizationWorks() {
    double[] h = {1, 0, 0, -0.05}; // mean diag 0.475: needs lambda > 0.05, i.e. damp > 0.105
    SecondOrderSweep.Factor f = SecondOrderSweep.dampedInverseCholesky(h, 2, 0.01, 1);
    assertThat(f.damp()).isCloseTo(1, within(1e-12)); // 0.01 and 0.1 fail
    assertThatThrownBy(
            () ->
                SecondOrderSweep.dampedInverseCholesky(new double[] {1, 0, 0, -0.05}, 2, 0.01, 0.1))
        .isInstanceOf(SecondOrderSweep.NotPositiveDefiniteException.class)
        .satisfies(
            e ->
                assertThat(((SecondOrderSweep.NotPositiveDefiniteException) e).damp())
                    .isCloseTo(0.1, within(1e-12)));
  }

  @Test
  void errorsOfEachColumnAreCompensatedInTheLaterOnes() {
    // H = [[2, 1], [1, 2]]: zeroing column 0 moves w0 * H01 / H11 = w0 / 2 onto column 1
    double[] h = {2, 1, 1, 2};
    double[] u = SecondOrderSweep.dampedInverseCholesky(h, 2, 0, 0).u();
    for (int block : new int[] {1, 2}) { // lazy (one column per block) and in-block updates agree
      double[] w = {1, 0};
      double loss =
          SecondOrderSweep.sweep(
              w, 1, 2, u, block, (c, x, now, q) -> q[0] = c == 0 ? 0 : x[0]); // prune column 0
      assertThat(w[1]).as("block %d", block).isCloseTo(0.5, within(1e-12));
      // loss = e^2 / 2 with e = 1 / U_00, U_00^2 = 1 / (H00 - H01^2 / H11) = 2/3
      assertThat(loss).isCloseTo(0.75, within(1e-12));
    }
  }

  @Test
  void theBlockStepSeesTheLazyBlockAsUpdatedSoFar() {
    // H = [[2, 1, 0], [1, 2, 1], [0, 1, 2]]; prune column 0, then read column 1 from the block
    double[] h = {2, 1, 0, 1, 2, 1, 0, 1, 2};
    double[] u = SecondOrderSweep.dampedInverseCholesky(h, 3, 0, 0).u();
    double[] plain = {1, 0, 0};
    SecondOrderSweep.sweep(plain, 1, 3, u, 3, (c, x, now, q) -> q[0] = c == 0 ? 0 : x[0]);
    double[] w = {1, 0, 0};
    double[] seen = new double[3];
    SecondOrderSweep.sweep(
        w,
        1,
        3,
        u,
        3,
        (c, x, now, block, q) -> {
          assertThat(block.from()).isZero();
          assertThat(block.count()).isEqualTo(3);
          assertThat(block.at(0, c)).isEqualTo(x[0]); // the column as compensated so far
          seen[c] = block.at(0, 2); // a later column, already updated by the ones before
          q[0] = c == 0 ? 0 : x[0];
        });
    assertThat(w).containsExactly(plain); // the same sweep
    assertThat(seen[0]).isZero();
    assertThat(seen[1]).isEqualTo(plain[2]);
  }
}
