package dev.compress.runtime.kernels;

/**
 * An 8-bit weight-only linear layer, per output channel: {@code W[k,n] = scale[n] * (q[k,n] -
 * zero[n])} with int8 codes (symmetric, zero point 0 unless given) or uint8 codes with a zero
 * point, f32 scales. Activations stay f32; each dot product converts the codes in registers,
 * accumulates {@code sum_k x_k q_k} lane-wise and applies {@code scale * (dot - zero * sum_k x_k)}
 * once.
 *
 * <p>Repacked layout (built once): codes as signed bytes {@code q} ({@code uint8 - 128}; the zero
 * point moves with them, so a symmetric weight has zero 0 and nothing cancels), each output row
 * {@code Kp/4} ints ({@code Kp} = K rounded up to 64, so the kernel always takes chunks in pairs);
 * chunk {@code c} of 32 inputs is 8 ints, and byte {@code s} of int lane {@code l} is the code of
 * input {@code 32c + 8s + l}.
 */
public final class Int8Linear implements QuantizedLinear {
  final int k;
  final int n;
  final int kp;
  final int intsPerRow;
  final int[] q;
  final float[] scale;
  final float[] zero; // zero point in the signed code domain
  private final long storedBytes;

  private Int8Linear(int k, int n, int[] q, float[] scale, float[] zero, long storedBytes) {
    this.k = k;
    this.n = n;
    this.kp = Tiling.roundUp(k, 64);
    this.intsPerRow = kp / 4;
    this.q = q;
    this.scale = scale;
    this.zero = zero;
    this.storedBytes = storedBytes;
  }

  /**
   * Repacks a per-channel (or per-tensor) 8-bit weight.
   *
   * @param codes the codes, row-major {@code [K, N]} (ONNX MatMul's {@code B}), or {@code [N, K]}
   *     when {@code outInLayout}
   * @param unsigned whether the codes are uint8 (else int8)
   * @param scale {@code N} scales, or one for the whole tensor
   * @param zeroPoint {@code N} zero points (or one), of the codes' type; null for 0
   * @throws IllegalArgumentException when the sizes disagree
   */
  public static Int8Linear of(
      byte[] codes,
      boolean unsigned,
      int k,
      int n,
      boolean outInLayout,
      float[] scale,
      byte[] zeroPoint) {
    checkWeight(codes, k, n, scale, zeroPoint);
    int kp = Tiling.roundUp(k, 64);
    int ipr = kp / 4;
    int[] q = new int[Math.multiplyExact(n, ipr)];
    float[] sc = new float[n];
    float[] zu = new float[n];
    int offset = unsigned ? -128 : 0;
    for (int o = 0; o < n; o++) {
      sc[o] = scale[scale.length == 1 ? 0 : o];
      int z = zeroPoint == null ? 0 : zeroPoint[zeroPoint.length == 1 ? 0 : o];
      zu[o] = (unsigned ? z & 0xff : z) + offset;
      // padding inputs hold code 0; their activations are 0
      for (int i = 0; i < k; i++) {
        int c = codes[outInLayout ? o * k + i : i * n + o];
        int w = (unsigned ? c & 0xff : c) + offset; // in [-128, 127]
        q[o * ipr + (i >> 5) * 8 + (i & 7)] |= (w & 0xff) << (8 * ((i >> 3) & 3));
      }
    }
    long stored = codes.length + 4L * scale.length + (zeroPoint == null ? 0 : zeroPoint.length);
    return new Int8Linear(k, n, q, sc, zu, stored);
  }

  static void checkWeight(byte[] codes, int k, int n, float[] scale, byte[] zeroPoint) {
    if (k < 1 || n < 1 || codes.length != (long) k * n) {
      throw new IllegalArgumentException(
          "8-bit weight: "
              + codes.length
              + " codes do not make a K="
              + k
              + " x N="
              + n
              + " matrix");
    }
    if (scale.length != n && scale.length != 1) {
      throw new IllegalArgumentException(
          "8-bit weight: " + scale.length + " scales for N=" + n + " outputs (need N or 1)");
    }
    if (zeroPoint != null && zeroPoint.length != n && zeroPoint.length != 1) {
      throw new IllegalArgumentException(
          "8-bit weight: "
              + zeroPoint.length
              + " zero points for N="
              + n
              + " outputs (need N or 1)");
    }
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
   * Columns {@code [o0, o1)} of W dequantized, transposed, into {@code dst}: {@code dst[(o - o0) *
   * K + i] = W[i, o] = scale * (q - zero)}, the values the several-row (panel) path multiplies by
   * (see {@link Int4Linear#dequantizeTransposed}). Split over {@code pool}.
   *
   * @throws IllegalArgumentException when the range or {@code dst}'s capacity does not fit
   */
  public void dequantizeTransposed(int o0, int o1, java.nio.FloatBuffer dst, KernelPool pool) {
    Int4Linear.checkRange(o0, o1, n, k, dst);
    boolean vector = QuantizedLinear.useVector(Impl.AUTO);
    Panels.dequantizeInto(
        pool,
        o0,
        o1,
        k,
        kp,
        dst,
        vector
            ? (a, b, wt) -> VectorGemm.dequantize(q, intsPerRow, kp, scale, zero, a, b, wt)
            : (a, b, wt) -> scalarDequantize(a, b, wt));
  }

  /** The scalar twin of the vector dequantizer: {@code scale * (q - zero)} as one fused op. */
  private void scalarDequantize(int o0, int o1, float[] wt) {
    for (int o = o0; o < o1; o++) {
      int d = (o - o0) * kp;
      float z = -zero[o] * scale[o];
      for (int i = 0; i < kp; i++) {
        int code = (byte) (q[o * intsPerRow + (i >> 5) * 8 + (i & 7)] >> (8 * ((i >> 3) & 3)));
        wt[d + i] = Math.fma(code, scale[o], z);
      }
    }
  }

  @Override
  public void multiply(float[] x, int m, float[] y, Impl impl, KernelPool pool) {
    QuantizedLinear.checkSizes(x, m, y, k, n);
    if (m == 0) {
      return;
    }
    boolean vector = QuantizedLinear.useVector(impl);
    if (vector && m >= Panels.MIN_ROWS) {
      Panels.run(
          pool,
          n,
          m,
          kp,
          pad(x, m, k, kp),
          y,
          (o0, o1, wt) -> VectorGemm.dequantize(q, intsPerRow, kp, scale, zero, o0, o1, wt));
      return;
    }
    float[] xp = new float[m * kp];
    float[] xsum = new float[m];
    for (int r = 0; r < m; r++) {
      float s = 0;
      for (int i = 0; i < k; i++) {
        float v = x[r * k + i];
        s += v;
        xp[r * kp + i] = v;
      }
      xsum[r] = s;
    }
    Tiling.run(
        pool,
        n,
        m,
        4L * intsPerRow,
        vector
            ? (n0, n1) -> VectorGemm.int8(this, xp, xsum, m, n0, n1, y)
            : (n0, n1) -> scalar(xp, xsum, m, n0, n1, y));
  }

  /** {@code x [m, k]} copied into rows of {@code kp} (zeros past {@code k}). */
  static float[] pad(float[] x, int m, int k, int kp) {
    float[] xp = new float[m * kp];
    for (int r = 0; r < m; r++) {
      System.arraycopy(x, r * k, xp, r * kp, k);
    }
    return xp;
  }

  private void scalar(float[] xp, float[] xsum, int m, int n0, int n1, float[] y) {
    for (int r = 0; r < m; r++) {
      int xo = r * kp;
      for (int o = n0; o < n1; o++) {
        int qo = o * intsPerRow;
        float dot = 0;
        for (int i = 0; i < kp; i++) {
          int w = (q[qo + (i >> 5) * 8 + (i & 7)] << (24 - 8 * ((i >> 3) & 3))) >> 24;
          dot += xp[xo + i] * w;
        }
        y[r * n + o] = scale[o] * (dot - zero[o] * xsum[r]);
      }
    }
  }
}
