package dev.compress.runtime.kernels;

/**
 * A W8A8 linear layer: 8-bit activations ({@code xq}, scale {@code sx}, zero point {@code zx})
 * times 8-bit per-channel weights ({@code wq}, {@code sw[n]}, {@code zw[n]}), products and sums in
 * int32, one f32 multiply per output: {@code y[m,n] = sx * sw[n] * sum_k (xq - zx)(wq - zw)}. This
 * is what ONNX's {@code MatMulInteger} followed by the rescale computes, and what a static {@code
 * QuantizeLinear → DequantizeLinear → MatMul(·, DequantizeLinear(W))} chain computes in floats.
 *
 * <p>Repacked layout: signed weight codes ({@code uint8 - 128}, with the zero point moved alike),
 * each output row {@code Kp/4} ints ({@code Kp} = K rounded up to 32), byte {@code s} of int lane
 * {@code l} of chunk {@code c} holding input {@code 32c + 8s + l}. Activations enter as {@code xq -
 * zx} in int32, padded with zeros.
 */
public final class W8A8Linear implements QuantizedLinear {
  final int k;
  final int n;
  final int kp;
  final int intsPerRow;
  final int[] q;
  final int[] zero; // in the signed code domain
  private final float[] zeroF; // the same, as floats (for dequantized panels)
  final float[] scale;
  private final long storedBytes;

  private W8A8Linear(int k, int n, int[] q, int[] zero, float[] scale, long storedBytes) {
    this.k = k;
    this.n = n;
    this.kp = Tiling.roundUp(k, 32);
    this.intsPerRow = kp / 4;
    this.q = q;
    this.zero = zero;
    this.zeroF = new float[zero.length];
    for (int i = 0; i < zero.length; i++) {
      zeroF[i] = zero[i];
    }
    this.scale = scale;
    this.storedBytes = storedBytes;
  }

  /**
   * Repacks a per-channel (or per-tensor) 8-bit weight; arguments as {@link Int8Linear#of}.
   *
   * @throws IllegalArgumentException when the sizes disagree
   */
  public static W8A8Linear of(
      byte[] codes,
      boolean unsigned,
      int k,
      int n,
      boolean outInLayout,
      float[] scale,
      byte[] zeroPoint) {
    Int8Linear.checkWeight(codes, k, n, scale, zeroPoint);
    int kp = Tiling.roundUp(k, 32);
    int ipr = kp / 4;
    int[] q = new int[Math.multiplyExact(n, ipr)];
    int[] zs = new int[n];
    float[] sc = new float[n];
    int offset = unsigned ? -128 : 0;
    for (int o = 0; o < n; o++) {
      sc[o] = scale[scale.length == 1 ? 0 : o];
      int z = zeroPoint == null ? 0 : zeroPoint[zeroPoint.length == 1 ? 0 : o];
      zs[o] = (unsigned ? z & 0xff : z) + offset;
      for (int i = 0; i < k; i++) {
        int c = codes[outInLayout ? o * k + i : i * n + o];
        int w = (unsigned ? c & 0xff : c) + offset; // in [-128, 127]
        q[o * ipr + (i >> 5) * 8 + (i & 7)] |= (w & 0xff) << (8 * ((i >> 3) & 3));
      }
    }
    long stored = codes.length + 4L * scale.length + (zeroPoint == null ? 0 : zeroPoint.length);
    return new W8A8Linear(k, n, q, zs, sc, stored);
  }

  @Override
  public int inFeatures() {
    return k;
  }

  @Override
  public int outFeatures() {
    return n;
  }

  @Override
  public long weightBytes() {
    return storedBytes;
  }

  /**
   * Quantizes {@code x} as ONNX {@code DynamicQuantizeLinear} does (uint8, one scale and zero point
   * for the whole tensor), then multiplies.
   */
  @Override
  public void multiply(float[] x, int m, float[] y, Impl impl, KernelPool pool) {
    QuantizedLinear.checkSizes(x, m, y, k, n);
    Quantize.Params p = Quantize.dynamicUint8(x);
    multiplyQuantized(x, m, p.scale(), p.zeroPoint(), 0, 255, y, impl, pool);
  }

  /**
   * Quantizes {@code x} with the given parameters ({@code clamp(rint(x / sx) + zx, lo, hi)}, ONNX
   * {@code QuantizeLinear}), then computes {@code y = sx * sw[n] * sum (xq - zx)(wq - zw)}.
   *
   * @param lo the smallest code (0 for uint8, -128 for int8)
   * @param hi the largest code (255 or 127)
   */
  public void multiplyQuantized(
      float[] x, int m, float sx, int zx, int lo, int hi, float[] y, Impl impl, KernelPool pool) {
    QuantizedLinear.checkSizes(x, m, y, k, n);
    if (m == 0) {
      return;
    }
    int[] xq = new int[m * kp];
    int[] xsum = new int[m];
    for (int r = 0; r < m; r++) {
      int s = 0;
      for (int i = 0; i < k; i++) {
        int v = Quantize.quantize(x[r * k + i], sx, zx, lo, hi) - zx;
        xq[r * kp + i] = v;
        s += v;
      }
      xsum[r] = s;
    }
    multiplyCodes(xq, xsum, m, sx, y, impl, pool);
  }

  /**
   * The integer product on activations already quantized and shifted: {@code xq[r*Kp + i] = code -
   * zx} (zeros past K), {@code xsum[r] = sum_i xq[r*Kp + i]}.
   */
  void multiplyCodes(int[] xq, int[] xsum, int m, float sx, float[] y, Impl impl, KernelPool pool) {
    boolean vector = QuantizedLinear.useVector(impl);
    if (vector && m >= Panels.MIN_ROWS) {
      float[] xp = new float[xq.length];
      for (int i = 0; i < xp.length; i++) {
        xp[i] = xq[i];
      }
      Panels.runExact(
          pool,
          n,
          m,
          kp,
          xp,
          y,
          (o0, o1, wt) -> VectorGemm.dequantize(q, intsPerRow, kp, null, zeroF, o0, o1, wt),
          sx,
          scale);
      return;
    }
    Tiling.run(
        pool,
        n,
        m,
        4L * intsPerRow,
        vector
            ? (n0, n1) -> VectorGemm.w8a8(this, xq, xsum, m, sx, n0, n1, y)
            : (n0, n1) -> scalar(xq, xsum, m, sx, n0, n1, y));
  }

  /** Padded K of the activation rows {@link #multiplyCodes} expects. */
  int paddedK() {
    return kp;
  }

  private void scalar(int[] xq, int[] xsum, int m, float sx, int n0, int n1, float[] y) {
    for (int r = 0; r < m; r++) {
      int xo = r * kp;
      for (int o = n0; o < n1; o++) {
        int qo = o * intsPerRow;
        int dot = 0;
        for (int i = 0; i < kp; i++) {
          int w = (q[qo + (i >> 5) * 8 + (i & 7)] << (24 - 8 * ((i >> 3) & 3))) >> 24;
          dot += xq[xo + i] * w;
        }
        y[r * n + o] = (sx * scale[o]) * (dot - zero[o] * xsum[r]);
      }
    }
  }
}
