package dev.compress.quantization.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.quantization.grid.QuantizedMatrix;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The MatMulNBits layout: exact bytes on a tiny case, and pack/unpack round trips. */
class MatMulNBitsLayoutTest {

  private static QuantizedMatrix random(int n, int k, int bits, int group, boolean sym, long seed) {
    Random r = new Random(seed);
    float[] w = new float[n * k];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    return QuantizedMatrix.quantize(w, n, k, bits, group, sym);
  }

  @Test
  void packsLowNibbleFirstAlongK() {
    // N = 2, K = 32, block 16: two blocks per row; codes chosen directly.
    int n = 2;
    int k = 32;
    byte[] codes = new byte[n * k];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) (i % 16);
    }
    float[] scales = {0.5f, 0.25f, 2f, 4f};
    int[] zeros = {1, 2, 3, 4};
    QuantizedMatrix q = QuantizedMatrix.of(n, k, 4, 16, false, codes, scales, zeros);
    MatMulNBitsLayout.Packed p = MatMulNBitsLayout.pack(q, 16);
    assertThat(p.bShape()).containsExactly(2, 2, 8);
    // Row 0, block 0: codes 0, 1 -> 0x10; 2, 3 -> 0x32; ...
    assertThat(p.b()[0]).isEqualTo((byte) 0x10);
    assertThat(p.b()[1]).isEqualTo((byte) 0x32);
    assertThat(p.b()[7]).isEqualTo((byte) 0xfe);
    assertThat(p.scales()).containsExactly(0.5f, 0.25f, 2f, 4f);
    // Zero points: per row ceil(2 blocks / 2) = 1 byte, block 0 in the low nibble.
    assertThat(p.zeroPoints()).containsExactly((byte) 0x21, (byte) 0x43);
  }

  @Test
  void oddBlockCountPacksZeroPointsPerRow() {
    // 3 blocks per row: 2 zero-point bytes per row, the second with an unused high nibble.
    QuantizedMatrix q = random(3, 96, 4, 32, false, 5);
    MatMulNBitsLayout.Packed p = MatMulNBitsLayout.pack(q, 32);
    assertThat(p.zeroPoints()).hasSize(3 * 2);
    for (int r = 0; r < 3; r++) {
      assertThat(p.zeroPoints()[r * 2] & 0xf).isEqualTo(q.zero(r, 0));
      assertThat((p.zeroPoints()[r * 2] >> 4) & 0xf).isEqualTo(q.zero(r, 1));
      assertThat(p.zeroPoints()[r * 2 + 1] & 0xff).isEqualTo(q.zero(r, 2));
    }
  }

  @ParameterizedTest(name = "int{0} K={1} group={2} symmetric={3}")
  @CsvSource({
    "4, 256, 32, true",
    "4, 256, 64, false",
    "4, 384, 128, false",
    "4, 96, 96, true", // per channel: one block of 128, padded
    "4, 200, 200, false", // per channel: one block of 256, padded
    "8, 256, 128, true",
    "8, 160, 160, false",
  })
  void roundTrips(int bits, int k, int group, boolean sym) {
    QuantizedMatrix q = random(7, k, bits, group, sym, 9);
    int block = group == k ? MatMulNBitsLayout.perChannelBlockSize(k) : group;
    MatMulNBitsLayout.Packed p = MatMulNBitsLayout.pack(q, block);
    assertThat(p.b()).hasSize(7 * MatMulNBitsLayout.blocks(k, block) * block * bits / 8);
    assertThat(p.zeroPoints() == null).isEqualTo(sym);
    QuantizedMatrix back = MatMulNBitsLayout.unpack(p);
    assertThat(back.groupSize()).isEqualTo(group);
    assertThat(back.dequantize()).containsExactly(q.dequantize());
    for (int r = 0; r < 7; r++) {
      for (int c = 0; c < k; c++) {
        assertThat(back.code(r, c)).isEqualTo(q.code(r, c));
      }
    }
    if (block > k) {
      // The padding past K holds the zero point, so it stands for 0.
      int padIndex = (k % block) / (8 / bits);
      int zero = q.zero(0, 0);
      assertThat(p.b()[block * bits / 8 - 1] & 0xff).isEqualTo(bits == 8 ? zero : zero | zero << 4);
      assertThat(padIndex).isLessThan(block * bits / 8);
    }
  }

  @Test
  void perChannelBlockIsTheNextPowerOfTwoOfAtLeast16() {
    assertThat(MatMulNBitsLayout.perChannelBlockSize(1)).isEqualTo(16);
    assertThat(MatMulNBitsLayout.perChannelBlockSize(16)).isEqualTo(16);
    assertThat(MatMulNBitsLayout.perChannelBlockSize(17)).isEqualTo(32);
    assertThat(MatMulNBitsLayout.perChannelBlockSize(96)).isEqualTo(128);
    assertThat(MatMulNBitsLayout.perChannelBlockSize(256)).isEqualTo(256);
    assertThat(MatMulNBitsLayout.perChannelBlockSize(384)).isEqualTo(512);
  }

  @Test
  void rejectsBlocksThatDoNotMatchTheGroups() {
    QuantizedMatrix q = random(2, 128, 4, 32, true, 1);
    assertThatThrownBy(() -> MatMulNBitsLayout.pack(q, 64))
        .hasMessageContaining("do not map onto blocks of 64");
    assertThatThrownBy(() -> MatMulNBitsLayout.pack(q, 48))
        .hasMessageContaining("power of two >= 16");
    QuantizedMatrix three = random(2, 64, 3, 64, true, 1);
    assertThatThrownBy(() -> MatMulNBitsLayout.pack(three, 64)).hasMessageContaining("4 or 8");
  }
}
