package dev.compress.quantization.format.compressedtensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The sparse-24-bitmask and sparse-bitmask layouts: exact round trips and the bit order. */
class SparseBitmaskLayoutTest {
  /** A {@code rows x cols} f16 weight with two of every four inputs zeroed (and a few more). */
  private static Tensor twoFour(int rows, int cols, long seed) {
    Random r = new Random(seed);
    float[] w = new float[rows * cols];
    for (int o = 0; o < rows; o++) {
      for (int g = 0; g < cols; g += 4) {
        int a = r.nextInt(4);
        int b = (a + 1 + r.nextInt(3)) % 4;
        for (int k = 0; k < 4; k++) {
          boolean keep = (k == a || k == b) && r.nextInt(10) > 0; // some groups keep only one
          w[o * cols + g + k] = keep ? (float) r.nextGaussian() : 0f;
        }
      }
    }
    return Tensor.ofFloats("w", DataType.FLOAT16, new long[] {rows, cols}, w);
  }

  @Test
  void twoFourRoundTripsByteForByte() {
    Tensor w = twoFour(6, 24, 3);
    var m = PackQuantizedLayoutTest.byName(SparseBitmaskLayout.pack24("m", w));
    assertThat(m.get("m.shape").shape()).containsExactly(2, 1);
    assertThat(m.get("m.shape").toLongArray()).containsExactly(6, 24);
    assertThat(m.get("m.compressed").shape()).containsExactly(6, 12);
    assertThat(m.get("m.compressed").dtype()).isEqualTo(DataType.FLOAT16);
    assertThat(m.get("m.bitmask").shape()).containsExactly(6, 3);
    Tensor back = SparseBitmaskLayout.unpack(m, "m");
    assertThat(back.shape()).containsExactly(6, 24);
    assertThat(back.data()).isEqualTo(w.data());
  }

  @Test
  void unstructuredRoundTripsWithRowOffsets() {
    Random r = new Random(7);
    float[] v = new float[5 * 13];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextInt(3) == 0 ? (float) r.nextGaussian() : 0f;
    }
    Tensor w = Tensor.ofFloats("w", new long[] {5, 13}, v);
    var m = PackQuantizedLayoutTest.byName(SparseBitmaskLayout.packBitmask("m", w));
    long nnz = 0;
    long[] offsets = m.get("m.row_offsets").toLongArray();
    for (int o = 0; o < 5; o++) {
      assertThat(offsets[o]).isEqualTo(nnz);
      for (int i = 0; i < 13; i++) {
        nnz += v[o * 13 + i] != 0 ? 1 : 0;
      }
    }
    assertThat(m.get("m.compressed").shape()).containsExactly(nnz);
    assertThat(m.get("m.shape").shape()).containsExactly(2);
    assertThat(m.get("m.bitmask").shape()).containsExactly(5, 2);
    assertThat(SparseBitmaskLayout.unpack(m, "m").data()).isEqualTo(w.data());
  }

  @Test
  void bitsAreLittleEndianWithinEachByte() {
    // Row [0, 5, 0, 7 | 1, 0, 0, 0 | 0, 0, 0, 0]: kept 1, 3 | 4 (+ first zero 5) | 8, 9 (zeros).
    float[] row = {0, 5, 0, 7, 1, 0, 0, 0, 0, 0, 0, 0};
    Tensor w = Tensor.ofFloats("w", new long[] {1, 12}, row);
    var m = PackQuantizedLayoutTest.byName(SparseBitmaskLayout.pack24("x", w));
    var bits = m.get("x.bitmask").data();
    assertThat(bits.get(0) & 0xff).isEqualTo(0b0011_1010);
    assertThat(bits.get(1) & 0xff).isEqualTo(0b0000_0011);
    assertThat(m.get("x.compressed").toFloatArray()).containsExactly(5, 7, 1, 0, 0, 0);
  }

  @Test
  void aWeightThatIsNot24IsRefusedNamingTheGroup() {
    Tensor w = Tensor.ofFloats("w", new long[] {1, 8}, 1, 2, 3, 0, 0, 0, 0, 0);
    assertThatThrownBy(() -> SparseBitmaskLayout.pack24("layer", w))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("layer: inputs 0..3 of output 0 hold 3 non-zeros; not 2:4 sparse");
    Tensor odd = Tensor.ofFloats("w", new long[] {1, 6}, 1, 0, 0, 0, 0, 0);
    assertThatThrownBy(() -> SparseBitmaskLayout.pack24("layer", odd))
        .hasMessageContaining("6 input features are not a multiple of 4");
  }
}
