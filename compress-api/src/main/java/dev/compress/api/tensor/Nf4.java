package dev.compress.api.tensor;

import java.util.Arrays;

/**
 * The 4-bit NormalFloat format of QLoRA (Dettmers et al. 2023, "QLoRA: Efficient Finetuning of
 * Quantized LLMs"), with its double quantization of the block scales. A format helper shared by the
 * passes that store or train over NF4 weights.
 *
 * <ol>
 *   <li><b>Levels.</b> 16 values from the quantiles of N(0, 1): with {@code delta = (1 - 1/(2*15) +
 *       1 - 1/(2*16)) / 2 = 0.9677083}, the 8 positive levels are {@code Phi^-1(p)} for {@code p}
 *       the first 8 of 9 points evenly spaced from {@code delta} down to 0.5, the 7 negative levels
 *       {@code -Phi^-1(p)} for the first 7 of 8 points from {@code delta} to 0.5, plus an exact
 *       zero; all divided by the largest, so they span {@code [-1, 1]} (asymmetric: 7 negative, 8
 *       positive).
 *   <li><b>Blocks.</b> The weight, flattened, is cut into blocks of {@link #BLOCK} = 64; each block
 *       keeps its absmax {@code a = max |w|} and each element the index of the level nearest to
 *       {@code w / a} (ties to the lower index), two indices per byte (the first in the low
 *       nibble). An all-zero block has {@code a = 0} and decodes to zeros.
 *   <li><b>Double quantization.</b> The absmax values lose their mean {@code c} (one float for the
 *       tensor) and are quantized in blocks of {@link #ABSMAX_BLOCK} = 256 to 8-bit floats (E4M3: 4
 *       exponent bits, bias 7, 3 mantissa bits, subnormals, largest finite 448, the paper's "8-bit
 *       Floats"), each block scaled by {@code s = max |a - c| / 448} (a float per block), rounded
 *       to the nearest E4M3 value (ties to even). Cost: {@code 8/64 + 32/(64*256) = 0.127} bits per
 *       parameter instead of {@code 32/64 = 0.5}.
 * </ol>
 *
 * <p>Dequantization: {@code w' = level[idx] * a'} with {@code a' = e4m3(code) * s + c}.
 * bitsandbytes quantizes the absmax with its own 8-bit dynamic map instead of E4M3, so the bytes
 * are this format's, not bitsandbytes'; the levels, block sizes and the mean shift are the same.
 */
public final class Nf4 {
  /** Elements per absmax block. */
  public static final int BLOCK = 64;

  /** Absmax values per block of the double quantization. */
  public static final int ABSMAX_BLOCK = 256;

  /** QLoRA's offset: the mean of {@code 1 - 1/(2*15)} and {@code 1 - 1/(2*16)}. */
  public static final double OFFSET = (1 - 1.0 / 30 + 1 - 1.0 / 32) / 2;

  private static final float[] LEVELS = computeLevels();
  private static final float[] E4M3 = e4m3Positives();

  private Nf4() {}

  /**
   * An NF4 tensor with double-quantized scales.
   *
   * @param length the element count
   * @param codes level indices, two per byte (element {@code 2i} in the low nibble)
   * @param absmaxCodes the E4M3 code of each block's {@code absmax - mean}
   * @param absmaxScales one scale per {@link #ABSMAX_BLOCK} absmax values
   * @param absmaxMean the mean of all absmax values
   */
  public record Quantized(
      int length, byte[] codes, byte[] absmaxCodes, float[] absmaxScales, float absmaxMean) {
    /** Bytes held: codes, absmax codes, their scales and the mean. */
    public long bytes() {
      return codes.length + absmaxCodes.length + 4L * absmaxScales.length + 4;
    }
  }

  /** The 16 levels, ascending (a copy). */
  public static float[] levels() {
    return LEVELS.clone();
  }

  private static float[] computeLevels() {
    double[] v = new double[16];
    int k = 0;
    for (int i = 0; i < 8; i++) { // 9 points from OFFSET to 0.5, the last (0.5 -> 0) dropped
      v[k++] = inverseNormal(OFFSET + (0.5 - OFFSET) * i / 8);
    }
    v[k++] = 0;
    for (int i = 0; i < 7; i++) { // 8 points from OFFSET to 0.5, the last dropped
      v[k++] = -inverseNormal(OFFSET + (0.5 - OFFSET) * i / 7);
    }
    Arrays.sort(v);
    double max = v[15];
    float[] out = new float[16];
    for (int i = 0; i < 16; i++) {
      out[i] = (float) (v[i] / max);
    }
    return out;
  }

  /**
   * The standard normal quantile {@code Phi^-1(p)}, {@code 0 < p < 1}: Acklam's rational
   * approximation (relative error below 1.2e-9, well below float precision).
   */
  static double inverseNormal(double p) {
    double[] a = {
      -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00
    };
    double[] b = {
      -5.447609879822406e+01,
      1.615858368580409e+02,
      -1.556989798598866e+02,
      6.680131188771972e+01,
      -1.328068155288572e+01
    };
    double[] c = {
      -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00
    };
    double[] d = {
      7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00
    };
    double x;
    if (p < 0.02425) {
      double q = Math.sqrt(-2 * Math.log(p));
      x =
          (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
              / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
      double q = Math.sqrt(-2 * Math.log(1 - p));
      x =
          -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
              / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
      double q = p - 0.5;
      double r = q * q;
      x =
          (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
              * q
              / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    return x;
  }

  /** The index of the level nearest to {@code v} (ties to the lower index). */
  public static int nearest(float v) {
    int best = 0;
    float bestD = Math.abs(v - LEVELS[0]);
    for (int i = 1; i < 16; i++) {
      float dd = Math.abs(v - LEVELS[i]);
      if (dd < bestD) {
        best = i;
        bestD = dd;
      }
    }
    return best;
  }

  /** Quantizes {@code w} (any length; the last block may be short). */
  public static Quantized quantize(float[] w) {
    int n = w.length;
    int blocks = (n + BLOCK - 1) / BLOCK;
    float[] absmax = new float[blocks];
    byte[] codes = new byte[(n + 1) / 2];
    for (int b = 0; b < blocks; b++) {
      int from = b * BLOCK;
      int to = Math.min(n, from + BLOCK);
      float a = 0;
      for (int i = from; i < to; i++) {
        a = Math.max(a, Math.abs(w[i]));
      }
      absmax[b] = a;
      for (int i = from; i < to; i++) {
        int idx = a == 0 ? 7 : nearest(w[i] / a); // level 7 is the exact zero
        codes[i >> 1] |= (byte) ((i & 1) == 0 ? idx : idx << 4);
      }
    }
    double sum = 0;
    for (float a : absmax) {
      sum += a;
    }
    float mean = blocks == 0 ? 0 : (float) (sum / blocks);
    int groups = (blocks + ABSMAX_BLOCK - 1) / ABSMAX_BLOCK;
    float[] scales = new float[groups];
    byte[] aCodes = new byte[blocks];
    for (int g = 0; g < groups; g++) {
      int from = g * ABSMAX_BLOCK;
      int to = Math.min(blocks, from + ABSMAX_BLOCK);
      float m = 0;
      for (int i = from; i < to; i++) {
        m = Math.max(m, Math.abs(absmax[i] - mean));
      }
      float s = m / 448f;
      scales[g] = s;
      for (int i = from; i < to; i++) {
        aCodes[i] = s == 0 ? 0 : encodeE4m3((absmax[i] - mean) / s);
      }
    }
    return new Quantized(n, codes, aCodes, scales, mean);
  }

  /** The level index of element {@code i}. */
  public static int code(Quantized q, int i) {
    int b = q.codes()[i >> 1] & 0xff;
    return (i & 1) == 0 ? b & 0xf : b >> 4;
  }

  /** The absmax values as the double quantization restores them. */
  public static float[] absmax(Quantized q) {
    int blocks = q.absmaxCodes().length;
    float[] a = new float[blocks];
    for (int i = 0; i < blocks; i++) {
      a[i] = decodeE4m3(q.absmaxCodes()[i]) * q.absmaxScales()[i / ABSMAX_BLOCK] + q.absmaxMean();
    }
    return a;
  }

  /** The dequantized values {@code level[idx] * absmax'}. */
  public static float[] dequantize(Quantized q) {
    float[] a = absmax(q);
    float[] out = new float[q.length()];
    for (int i = 0; i < out.length; i++) {
      out[i] = LEVELS[code(q, i)] * a[i / BLOCK];
    }
    return out;
  }

  /** The E4M3 value of {@code code} (finite codes; 0x7f/0xff are NaN). */
  public static float decodeE4m3(byte code) {
    int c = code & 0xff;
    float mag = (c & 0x7f) == 0x7f ? Float.NaN : E4M3[c & 0x7f];
    return (c & 0x80) != 0 ? -mag : mag;
  }

  /** The E4M3 code nearest to {@code v}, saturating at 448, ties to the even code. */
  public static byte encodeE4m3(float v) {
    float a = Math.min(Math.abs(v), 448f);
    int lo = 0;
    int hi = 126; // 0x7e = 448, the largest finite magnitude
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      if (E4M3[mid] <= a) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    int c;
    if (E4M3[hi] <= a) {
      c = hi;
    } else {
      float dl = a - E4M3[lo];
      float dh = E4M3[hi] - a;
      c = dl < dh ? lo : dh < dl ? hi : ((lo & 1) == 0 ? lo : hi);
    }
    return (byte) (v < 0 || (v == 0 && 1 / v < 0) ? c | 0x80 : c);
  }

  /**
   * Magnitudes of codes 0..0x7f: {@code e = c >> 3}, {@code m = c & 7}, bias 7, subnormal e = 0.
   */
  private static float[] e4m3Positives() {
    float[] t = new float[128];
    for (int c = 0; c < 128; c++) {
      int e = c >> 3;
      int m = c & 7;
      t[c] =
          e == 0
              ? (float) (m / 8.0 * Math.pow(2, -6))
              : (float) ((1 + m / 8.0) * Math.pow(2, e - 7));
    }
    return t;
  }
}
