package dev.compress.calibration.activation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.compress.api.tensor.Tensor;
import org.junit.jupiter.api.Test;

class TokenRowsTest {
  // x [2, 3, 2]: token (s, t) holds (10 s + t, -(10 s + t))
  private static final Tensor X =
      Tensor.ofFloats("x", new long[] {2, 3, 2}, 0, -0, 1, -1, 2, -2, 10, -10, 11, -11, 12, -12);
  private static final Tensor MASK =
      Tensor.ofLongs("attention_mask", new long[] {2, 3}, 1, 1, 0, 1, 0, 0);

  @Test
  void paddedTokensAreDroppedWhenTheMaskMatchesTheRows() {
    TokenRows r = TokenRows.of(X, MASK);
    assertThat(r.rows()).isEqualTo(3);
    assertThat(r.cols()).isEqualTo(2);
    assertThat(r.sequences()).isEqualTo(2);
    assertThat(r.values()).containsExactly(0, -0, 1, -1, 10, -10);
  }

  @Test
  void everyRowIsKeptWithoutAMaskOrWhenTheRowsAreNotTokens() {
    assertThat(TokenRows.of(X, null).rows()).isEqualTo(6);
    Tensor pooled = Tensor.ofFloats("p", new long[] {2, 2}, 1, 2, 3, 4); // [b, K]: not b * t rows
    TokenRows r = TokenRows.of(pooled, MASK);
    assertThat(r.rows()).isEqualTo(2);
    assertThat(r.sequences()).isEqualTo(1);
    assertThat(TokenRows.realRowsOrAll(pooled, MASK)).containsExactly(true, true);
    // a [b * t, K] activation (an exporter that flattens before MatMul) is masked too
    Tensor flat = Tensor.ofFloats("f", new long[] {6, 2}, X.toFloatArray());
    assertThat(TokenRows.of(flat, MASK).rows()).isEqualTo(3);
    assertThat(TokenRows.of(flat, MASK).sequences()).isEqualTo(2);
  }

  @Test
  void statisticsCountRealTokensOnly() {
    ActivationStats s = new ActivationStats(2);
    s.add(TokenRows.of(X, MASK));
    assertThat(s.tokens()).isEqualTo(3);
    assertThat(s.absMax()).containsExactly(10, 10);
    assertThat(s.meanAbs()[0]).isCloseTo(11 / 3.0, within(1e-12));
    assertThat(s.sumSquares()).containsExactly(101, 101);
  }
}
