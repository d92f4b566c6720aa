package dev.compress.quantization.fp8;

import dev.compress.api.tensor.DataType;

/**
 * The two 8-bit floating-point formats of Micikevicius et al. 2022 ("FP8 Formats for Deep
 * Learning"), as ONNX defines them ({@code FLOAT8E4M3FN}, {@code FLOAT8E5M2}), with exact
 * round-to-nearest-even encoding.
 *
 * <ul>
 *   <li><b>E4M3FN</b>: 4 exponent bits (bias 7), 3 mantissa bits, subnormals, no infinities, one
 *       NaN pattern per sign ({@code S.1111.111}); largest finite value 448.
 *   <li><b>E5M2</b>: 5 exponent bits (bias 15), 2 mantissa bits, subnormals, IEEE-style infinities
 *       ({@code S.11111.00}) and NaNs; largest finite value 57344.
 * </ul>
 *
 * {@link #encode} saturates, as ONNX's {@code QuantizeLinear}/{@code Cast} do with {@code
 * saturate=1} (the default): a finite value (or infinity) beyond the largest finite value becomes
 * that value with its sign; NaN stays NaN. Otherwise the nearest representable value is chosen,
 * ties to the even code (even mantissa).
 */
public enum Fp8Format {
  /** 4 exponent bits, 3 mantissa bits, finite only; max 448. */
  E4M3FN(4, 3, 7, 448f, DataType.FLOAT8E4M3FN, true),
  /** 5 exponent bits, 2 mantissa bits, with infinities; max 57344. */
  E5M2(5, 2, 15, 57344f, DataType.FLOAT8E5M2, false);

  private final int exponentBits;
  private final int mantissaBits;
  private final int bias;
  private final float max;
  private final DataType dataType;
  private final boolean finiteOnly; // no infinities, one NaN pattern (E4M3FN)
  private final float[] decoded = new float[256];

  Fp8Format(
      int exponentBits,
      int mantissaBits,
      int bias,
      float max,
      DataType dataType,
      boolean finiteOnly) {
    this.finiteOnly = finiteOnly;
    this.exponentBits = exponentBits;
    this.mantissaBits = mantissaBits;
    this.bias = bias;
    this.max = max;
    this.dataType = dataType;
    for (int c = 0; c < 256; c++) {
      decoded[c] = decodeBits(c);
    }
  }

  /** The largest finite value. */
  public float max() {
    return max;
  }

  /** The ONNX element type. */
  public DataType dataType() {
    return dataType;
  }

  /** Mantissa bits. */
  public int mantissaBits() {
    return mantissaBits;
  }

  private float decodeBits(int c) {
    int sign = (c >> 7) & 1;
    int e = (c >> mantissaBits) & ((1 << exponentBits) - 1);
    int m = c & ((1 << mantissaBits) - 1);
    int eMax = (1 << exponentBits) - 1;
    float v;
    if (finiteOnly && e == eMax && m == (1 << mantissaBits) - 1) {
      v = Float.NaN;
    } else if (!finiteOnly && e == eMax) {
      v = m == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
    } else if (e == 0) {
      v = (float) (m * Math.pow(2, 1 - bias - mantissaBits));
    } else {
      v = (float) ((1 + m / (double) (1 << mantissaBits)) * Math.pow(2, e - bias));
    }
    return sign == 1 ? -v : v;
  }

  /** The value of {@code code} (its low 8 bits). */
  public float decode(int code) {
    return decoded[code & 0xff];
  }

  /** The code of the nearest representable value to {@code x} (ties to even), saturating. */
  public byte encode(float x) {
    int sign = (Float.floatToRawIntBits(x) >>> 31) << 7;
    if (Float.isNaN(x)) {
      return (byte) (sign | 0x7f);
    }
    double a = Math.abs((double) x);
    if (a >= max) {
      return (byte) (sign | maxCode());
    }
    int emin = 1 - bias;
    int e = a == 0 ? emin : Math.max(emin, Math.getExponent(a));
    double quantum = Math.scalb(1.0, e - mantissaBits);
    double q = Math.rint(a / quantum); // exact scaling by a power of two; rint ties to even
    double v = q * quantum;
    if (v > max) {
      return (byte) (sign | maxCode());
    }
    if (v == 0) {
      return (byte) sign;
    }
    int ev = Math.getExponent(v);
    int bits;
    if (ev < emin) {
      bits = (int) (v / Math.scalb(1.0, emin - mantissaBits)); // subnormal
    } else {
      int mant = (int) (v / Math.scalb(1.0, ev - mantissaBits)) - (1 << mantissaBits);
      bits = ((ev + bias) << mantissaBits) | mant;
    }
    return (byte) (sign | bits);
  }

  /** The code of the largest finite value (positive). */
  public int maxCode() {
    return finiteOnly ? 0x7e : 0x7b;
  }

  /** {@code x} rounded to this format (saturating). */
  public float round(float x) {
    return decode(encode(x));
  }
}
