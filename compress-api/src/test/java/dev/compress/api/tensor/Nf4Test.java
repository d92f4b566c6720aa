package dev.compress.api.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * NF4 against its definition in the QLoRA paper: the levels, the blocks, the double quantization.
 */
class Nf4Test {
  /** The NF4 values as printed in QLoRA's appendix (Dettmers et al. 2023, "NormalFloat 4-bit"). */
  private static final double[] PAPER = {
    -1.0,
    -0.6961928009986877,
    -0.5250730514526367,
    -0.39491748809814453,
    -0.28444138169288635,
    -0.18477343022823334,
    -0.09105003625154495,
    0.0,
    0.07958029955625534,
    0.16093020141124725,
    0.24611230194568634,
    0.33791524171829224,
    0.44070982933044434,
    0.5626170039176941,
    0.7229568362236023,
    1.0
  };

  @Test
  void theLevelsAreThePapersNormalQuantiles() {
    float[] l = Nf4.levels();
    assertThat(l).hasSize(16);
    double worst = 0;
    for (int i = 0; i < 16; i++) {
      worst = Math.max(worst, Math.abs(l[i] - PAPER[i]));
    }
    System.out.printf("[nf4] max |level - paper| = %.3g%n", worst);
    assertThat(worst).isLessThan(1e-6); // measured 1.8e-7 (float rounding of the quantiles)
    assertThat(l[7]).isEqualTo(0f); // an exact zero: 7 negative, 8 positive levels
    assertThat(l[0]).isEqualTo(-1f);
    assertThat(l[15]).isEqualTo(1f);
    assertThat(Nf4.OFFSET).isCloseTo(0.9677083, within(1e-7));
  }

  @Test
  void everyElementTakesTheNearestLevelOfItsBlocksAbsmax() {
    Random r = new Random(3);
    int n = Nf4.BLOCK * 300 + 37; // 301 blocks: two absmax groups, a short last block
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) (r.nextGaussian() * (1 + i / 4000.0));
    }
    Nf4.Quantized q = Nf4.quantize(w);
    float[] levels = Nf4.levels();
    int blocks = (n + 63) / 64;
    float[] absmax = new float[blocks];
    for (int i = 0; i < n; i++) {
      absmax[i / 64] = Math.max(absmax[i / 64], Math.abs(w[i]));
    }
    for (int i = 0; i < n; i++) {
      float x = w[i] / absmax[i / 64];
      int c = Nf4.code(q, i);
      for (float level : levels) {
        assertThat(Math.abs(x - levels[c])).isLessThanOrEqualTo(Math.abs(x - level));
      }
    }
    // the largest element of a block is exactly +-1 * absmax
    assertThat(levels[Nf4.code(q, argmaxAbs(w, 0, 64))]).isIn(-1f, 1f);
  }

  @Test
  void theAbsmaxIsDoubleQuantizedToE4m3AfterItsMeanInBlocksOf256() {
    Random r = new Random(4);
    int n = Nf4.BLOCK * 600;
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) (r.nextGaussian() * 0.02 * (1 + (i / 64) % 7));
    }
    Nf4.Quantized q = Nf4.quantize(w);
    int blocks = n / 64;
    double[] absmax = new double[blocks];
    double mean = 0;
    for (int b = 0; b < blocks; b++) {
      for (int i = b * 64; i < (b + 1) * 64; i++) {
        absmax[b] = Math.max(absmax[b], Math.abs(w[i]));
      }
      mean += absmax[b] / blocks;
    }
    assertThat((double) q.absmaxMean()).isCloseTo(mean, within(1e-7));
    assertThat(q.absmaxScales()).hasSize(3); // ceil(600 / 256)
    for (int g = 0; g < 3; g++) {
      double m = 0;
      for (int b = g * 256; b < Math.min(blocks, (g + 1) * 256); b++) {
        m = Math.max(m, Math.abs(absmax[b] - q.absmaxMean()));
      }
      assertThat((double) q.absmaxScales()[g]).isCloseTo(m / 448, within(1e-9));
    }
    for (int b = 0; b < blocks; b++) {
      float s = q.absmaxScales()[b / 256];
      float x = (float) ((absmax[b] - q.absmaxMean()) / s);
      float got = Nf4.decodeE4m3(q.absmaxCodes()[b]);
      for (int c = 0; c < 0x7f; c++) { // every finite E4M3 value of either sign
        for (float v : new float[] {Nf4.decodeE4m3((byte) c), -Nf4.decodeE4m3((byte) c)}) {
          assertThat(Math.abs(got - x)).isLessThanOrEqualTo(Math.abs(v - x));
        }
      }
    }
    // 4 bits + 8/64 + 32/(64*256) per parameter, as the paper counts it
    assertThat(q.bytes() * 8.0 / n).isCloseTo(4 + 8.0 / 64 + 32.0 / (64 * 256), within(2e-3));
    float[] back = Nf4.dequantize(q);
    float[] dq = Nf4.absmax(q);
    for (int i = 0; i < n; i++) {
      assertThat(back[i]).isEqualTo(Nf4.levels()[Nf4.code(q, i)] * dq[i / 64]);
    }
  }

  @Test
  void e4m3IsTheOcpFormat() {
    assertThat(Nf4.decodeE4m3((byte) 0x7e)).isEqualTo(448f); // S.1111.110, the largest finite
    assertThat(Nf4.decodeE4m3((byte) 0x08)).isEqualTo((float) Math.pow(2, -6)); // smallest normal
    assertThat(Nf4.decodeE4m3((byte) 0x01))
        .isEqualTo((float) Math.pow(2, -9)); // smallest subnormal
    assertThat(Nf4.decodeE4m3((byte) 0x7f)).isNaN();
    assertThat(Nf4.decodeE4m3((byte) 0xb8)).isEqualTo(-1f);
    for (int c = 0; c < 0x7f; c++) {
      assertThat(Nf4.encodeE4m3(Nf4.decodeE4m3((byte) c))).isEqualTo((byte) c);
    }
    assertThat(Nf4.encodeE4m3(1000f)).isEqualTo((byte) 0x7e); // saturates
    assertThat(Nf4.decodeE4m3(Nf4.encodeE4m3(1.0625f))).isEqualTo(1f); // tie to even mantissa
    assertThat(Nf4.decodeE4m3(Nf4.encodeE4m3(1.1875f))).isEqualTo(1.25f);
  }

  private static int argmaxAbs(float[] w, int from, int to) {
    int best = from;
    for (int i = from; i < to; i++) {
      if (Math.abs(w[i]) > Math.abs(w[best])) {
        best = i;
      }
    }
    return best;
  }
}
