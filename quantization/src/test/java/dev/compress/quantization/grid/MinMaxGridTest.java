package dev.compress.quantization.grid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The grid against hand-computed values and a scalar transcription of the GPTQ reference. */
class MinMaxGridTest {

  /** GPTQ's find_params/quantize for one group, transcribed literally (f32 arithmetic). */
  private static float[] reference(float[] x, int bits, boolean sym) {
    float maxq = (1 << bits) - 1;
    float xmin = 0;
    float xmax = 0;
    for (float v : x) {
      xmin = Math.min(xmin, v);
      xmax = Math.max(xmax, v);
    }
    if (sym) {
      xmax = Math.max(Math.abs(xmin), xmax);
      xmin = -xmax; // the reference does this only when xmin < 0 (see MinMaxGrid's note)
    }
    if (xmin == 0 && xmax == 0) {
      xmin = -1;
      xmax = 1;
    }
    float scale = (xmax - xmin) / maxq;
    float zero = sym ? (maxq + 1) / 2 : (float) Math.rint(-xmin / scale);
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      float q = Math.min(maxq, Math.max(0, (float) Math.rint(x[i] / scale) + zero));
      out[i] = scale * (q - zero);
    }
    return out;
  }

  static Stream<Arguments> grids() {
    return Stream.of(
        Arguments.of(4, true, 0),
        Arguments.of(4, false, 0),
        Arguments.of(4, true, 32),
        Arguments.of(4, false, 64),
        Arguments.of(8, true, 0),
        Arguments.of(8, false, 0),
        Arguments.of(8, true, 128),
        Arguments.of(8, false, 32));
  }

  @ParameterizedTest(name = "int{0} symmetric={1} group={2}")
  @MethodSource("grids")
  void matchesTheScalarReferenceOnRandomMatrices(int bits, boolean sym, int group) {
    int rows = 12;
    int cols = 256;
    int g = group == 0 ? cols : group;
    Random r = new Random(11);
    float[] w = new float[rows * cols];
    for (int i = 0; i < w.length; i++) {
      w[i] =
          (float) (r.nextGaussian() * 0.05 + (i / cols == 3 ? 0.2 : 0)); // row 3 all-positive-ish
    }
    QuantizedMatrix q = QuantizedMatrix.quantize(w, rows, cols, bits, g, sym);
    float[] deq = q.dequantize();
    for (int row = 0; row < rows; row++) {
      for (int start = 0; start < cols; start += g) {
        float[] group1 = new float[g];
        System.arraycopy(w, row * cols + start, group1, 0, g);
        float[] ref = reference(group1, bits, sym);
        for (int i = 0; i < g; i++) {
          assertThat(deq[row * cols + start + i]).isEqualTo(ref[i]);
        }
      }
    }
  }

  @Test
  void roundsHalfToEvenAsTorchRound() {
    // Asymmetric 4-bit over [-1, 2.75]: scale = 3.75 / 15 = 0.25 exactly, zero = round(4) = 4.
    float[] w = {-1f, 2.75f, 0.625f, 0.875f, -0.375f};
    QuantizedMatrix q = QuantizedMatrix.quantize(w, 1, 5, 4, 5, false);
    assertThat(q.scale(0, 0)).isEqualTo(0.25f);
    assertThat(q.zero(0, 0)).isEqualTo(4);
    assertThat(q.code(0, 0)).isEqualTo(0);
    assertThat(q.code(0, 1)).isEqualTo(15);
    assertThat(q.code(0, 2)).isEqualTo(6); // 2.5 -> 2 (away from zero would give 3)
    assertThat(q.code(0, 3)).isEqualTo(8); // 3.5 -> 4
    assertThat(q.code(0, 4)).isEqualTo(2); // -1.5 -> -2
  }

  @Test
  void symmetricFourBitUsesMinusEightToSeven() {
    // amax 7.5: scale = 2 * 7.5 / 15 = 1 exactly, zero = 8. -7.5 -> -8 -> code 0; +7.5 -> 8 ->
    // 16, clamped to 15; 2.5 -> 2 (half to even) -> 10.
    float[] w = {-7.5f, 7.5f, 0f, 2.5f};
    QuantizedMatrix q = QuantizedMatrix.quantize(w, 1, 4, 4, 4, true);
    assertThat(q.scale(0, 0)).isEqualTo(1f);
    assertThat(q.zero(0, 0)).isEqualTo(8);
    assertThat(q.code(0, 0)).isEqualTo(0);
    assertThat(q.code(0, 1)).isEqualTo(15);
    assertThat(q.code(0, 3)).isEqualTo(10);
    assertThat(q.dequantize()).containsExactly(-8f, 7f, 0f, 2f); // the top is clipped to 7
  }

  @Test
  void symmetricEightBitKeepsZeroPoint128() {
    // amax 127.5: scale = 255 / 255 = 1, zero 128, signed codes [-128, 127].
    float[] w = {-127.5f, 127.5f, 0.5f, 1.5f, -3.2f};
    QuantizedMatrix q = QuantizedMatrix.quantize(w, 1, 5, 8, 5, true);
    assertThat(q.zero(0, 0)).isEqualTo(128);
    assertThat(q.scale(0, 0)).isEqualTo(1f);
    assertThat(q.dequantize()).containsExactly(-128f, 127f, 0f, 2f, -3f);
  }

  @Test
  void allZeroRowFallsBackToMinusOneOne() {
    float[] w = new float[8];
    for (boolean sym : new boolean[] {true, false}) {
      for (int bits : new int[] {4, 8}) {
        QuantizedMatrix q = QuantizedMatrix.quantize(w, 1, 8, bits, 8, sym);
        int maxq = (1 << bits) - 1;
        float scale = 2f / maxq;
        assertThat(q.scale(0, 0)).isEqualTo(scale);
        // asymmetric: zero = round(1 / scale) in f32, 7.4999995 -> 7 (4 bits), 127.49999 -> 127
        int zero = sym ? (maxq + 1) / 2 : (int) Math.rint(1f / scale);
        assertThat(q.zero(0, 0)).isEqualTo(zero);
        assertThat(q.dequantize()).containsOnly(0f);
        assertThat(q.sqnrDb(w)).isInfinite();
      }
    }
  }

  @Test
  void constantRows() {
    float[] pos = {7.5f, 7.5f, 7.5f};
    // Asymmetric: range [0, 7.5], scale 0.5, zero 0, 7.5 is the top code: exact.
    QuantizedMatrix a = QuantizedMatrix.quantize(pos, 1, 3, 4, 3, false);
    assertThat(a.zero(0, 0)).isZero();
    assertThat(a.dequantize()).containsOnly(7.5f);
    // Symmetric: range [-7.5, 7.5], scale 1, 7.5 -> 8 -> clamped to 7 steps above zero.
    assertThat(QuantizedMatrix.quantize(pos, 1, 3, 4, 3, true).dequantize()).containsOnly(7f);
    float[] neg = {-7.5f, -7.5f};
    // Asymmetric: range [-7.5, 0], scale 0.5, zero 15, -7.5 -> code 0: exact.
    QuantizedMatrix an = QuantizedMatrix.quantize(neg, 1, 2, 4, 2, false);
    assertThat(an.zero(0, 0)).isEqualTo(15);
    assertThat(an.dequantize()).containsOnly(-7.5f);
    // Symmetric: -7.5 -> -8 -> code 0 -> -8.
    assertThat(QuantizedMatrix.quantize(neg, 1, 2, 4, 2, true).dequantize()).containsOnly(-8f);
  }

  @Test
  void asymmetricZeroPointIsRoundedAndTheRangeIncludesZero() {
    // [0.2, 1.0]: the range is forced to [0, 1.0] -> zero 0; [-0.3, 0.9] -> zero round(5) = 5.
    float[] w = {0.2f, 1.0f, -0.3f, 0.9f};
    QuantizedMatrix q = QuantizedMatrix.quantize(w, 2, 2, 4, 2, false);
    assertThat(q.zero(0, 0)).isZero();
    assertThat(q.scale(0, 0)).isEqualTo(1f / 15);
    assertThat(q.scale(1, 0)).isEqualTo(1.2f / 15);
    assertThat(q.zero(1, 0)).isEqualTo(Math.round(0.3f / (1.2f / 15)));
  }

  @Test
  void rejectsNonFiniteWeightsAndBadShapes() {
    assertThatThrownBy(() -> QuantizedMatrix.quantize(new float[] {1, Float.NaN}, 1, 2, 4, 2, true))
        .hasMessage("weight at row 0, column 1 is NaN");
    assertThatThrownBy(() -> QuantizedMatrix.quantize(new float[6], 1, 6, 4, 4, true))
        .hasMessageContaining("group size 4 does not divide 6 columns");
    assertThatThrownBy(() -> MinMaxGrid.maxq(9)).hasMessageContaining("bits must be in [2, 8]");
  }
}
