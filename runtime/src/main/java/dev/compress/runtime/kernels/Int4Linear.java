package dev.compress.runtime.kernels;

/**
 * A 4-bit block-quantized linear layer read from ONNX Runtime's {@code com.microsoft::MatMulNBits}
 * layout: {@code W[k,n] = scale[n,b] * (q[n,k] - zero[n,b])} with blocks {@code b = k / blockSize}
 * along K, unsigned 4-bit codes, one f32 scale per block and an optional packed 4-bit zero point (8
 * when absent). Dequantization is fused into the dot product: per block, {@code sum_k x_k q_k} is
 * accumulated lane-wise from the codes converted in registers and scaled once, and the zero point
 * enters as {@code - scale*zero * sum_{k in b} x_k}.
 *
 * <p>Repacked layout (built once): each output row holds {@code Kp/8} ints ({@code Kp} = K padded
 * to whole blocks and to a multiple of 64); chunk {@code c} of 64 inputs is 8 ints, and nibble
 * {@code s} of int lane {@code l} is {@code code ^ 8} of input {@code 64c + 8s + l} (read as a
 * signed nibble: {@code code - 8}), so one 256-bit load holds 64 codes and nibble slot {@code s}
 * lines up with the 8 contiguous inputs {@code x[64c+8s ..+8)}. Padding inputs are multiplied by
 * zero activations.
 *
 * <p><b>Int8-activation mode</b> (opt-in: {@link #withInt8Activations}, or the system property
 * {@value #ACTIVATIONS_PROPERTY}{@code =int8} for layers built afterwards; off by default). Each
 * call quantizes every row of X per weight block to signed 8-bit codes with a symmetric absmax
 * scale ({@code xs = max|x| / 127}, {@code xq = rint(x / xs)}), the way llama.cpp's {@code Q8_0 x
 * Q4_0} dot product does: per block, {@code sum_k xq_k (q_k - 8)} is exact in 16-bit lanes (at most
 * 32 products of magnitude at most {@code 127 * 8} per lane before they are widened), then scaled
 * once by {@code xs * scale}; the zero point enters through the per-block sums of the codes. The
 * result is MatMulNBits applied to the rounded X. This is not MatMulNBits' float arithmetic: each
 * activation is rounded to 1/254 of its block's largest magnitude, which moves outputs by about
 * 0.5% of their RMS on Gaussian inputs (measured by {@code QuantizedLinearTest}); it needs block
 * sizes of at least 32 (16 uses the float path). Reference: Gerganov et al., llama.cpp / ggml,
 * {@code ggml_vec_dot_q4_0_q8_0}.
 */
public final class Int4Linear implements QuantizedLinear {
  final int k;
  final int n;
  final int blockSize;
  final int kp; // padded K
  final int intsPerRow; // kp / 8
  final int blocksPerRow; // kp / blockSize (padding blocks have scale 0)
  final int[] q; // null in int8-activation mode (block size >= 32)
  final short[] q16; // the same words as 16-bit halves (low half first), int8-activation mode only
  final float[] scale; // [n * blocksPerRow]
  final float[] scaledZero; // scale * (zero - 8), [n * blocksPerRow]; null when every zero is 8
  private final long storedBytes;
  final boolean int8Activations;

  /**
   * System property: {@code int8} makes {@link #fromMatMulNBits} build layers in int8-activation
   * mode (see the class comment); {@code float} (default) keeps MatMulNBits' float arithmetic.
   */
  public static final String ACTIVATIONS_PROPERTY = "compress.kernels.int4.activations";

  private Int4Linear(
      int k,
      int n,
      int blockSize,
      int[] q,
      float[] scale,
      float[] scaledZero,
      long storedBytes,
      boolean int8Activations) {
    this.k = k;
    this.n = n;
    this.blockSize = blockSize;
    this.kp = q.length / n * 8;

    this.intsPerRow = kp / 8;
    this.blocksPerRow = kp / blockSize;
    boolean shorts = int8Activations && blockSize >= 32;
    this.q = shorts ? null : q;
    this.q16 = shorts ? halves(q) : null;
    this.scale = scale;
    this.scaledZero = scaledZero;
    this.storedBytes = storedBytes;
    this.int8Activations = int8Activations;
  }

  /**
   * This layer (sharing its repacked weight) with activations quantized to int8 per block on every
   * call ({@code true}) or kept in float ({@code false}); see the class comment for the numerics.
   */
  public Int4Linear withInt8Activations(boolean on) {
    return on == int8Activations
        ? this
        : new Int4Linear(k, n, blockSize, words(), scale, scaledZero, storedBytes, on);
  }

  /** The codes as ints (see the class comment). */
  private int[] words() {
    if (q != null) {
      return q;
    }
    int[] w = new int[q16.length / 2];
    for (int i = 0; i < w.length; i++) {
      w[i] = (q16[2 * i] & 0xffff) | (q16[2 * i + 1] << 16);
    }
    return w;
  }

  private static short[] halves(int[] q) {
    short[] h = new short[q.length * 2];
    for (int i = 0; i < q.length; i++) {
      h[2 * i] = (short) q[i];
      h[2 * i + 1] = (short) (q[i] >>> 16);
    }
    return h;
  }

  /** Whether products quantize the activations to int8 (see {@link #withInt8Activations}). */
  public boolean int8Activations() {
    return int8Activations;
  }

  /**
   * {@value #ACTIVATIONS_PROPERTY}: {@code true} for {@code int8}, {@code false} for {@code float}
   * or unset.
   *
   * @throws IllegalArgumentException for any other value
   */
  static boolean int8ActivationsByDefault() {
    String v = System.getProperty(ACTIVATIONS_PROPERTY, "float").trim();
    if (v.equalsIgnoreCase("float")) {
      return false;
    }
    if (v.equalsIgnoreCase("int8")) {
      return true;
    }
    throw new IllegalArgumentException(
        "system property " + ACTIVATIONS_PROPERTY + " must be float or int8, found '" + v + "'");
  }

  /**
   * Repacks the tensors of a {@code MatMulNBits} node ({@code bits = 4}).
   *
   * @param b {@code B}, uint8 {@code [N, ceil(K/blockSize), blockSize/2]}
   * @param scales f32 {@code [N * ceil(K/blockSize)]}
   * @param zeroPoints uint8 {@code [N * ceil(ceil(K/blockSize)/2)]} packed 4-bit, or null (zero
   *     point 8)
   * @throws IllegalArgumentException when sizes and attributes disagree, or the block size is not a
   *     power of two of at least 16
   */
  public static Int4Linear fromMatMulNBits(
      byte[] b, float[] scales, byte[] zeroPoints, int k, int n, int blockSize) {
    if (blockSize < 16 || Integer.bitCount(blockSize) != 1) {
      throw new IllegalArgumentException(
          "MatMulNBits block_size must be a power of two >= 16, found " + blockSize);
    }
    if (k < 1 || n < 1) {
      throw new IllegalArgumentException("K and N must be >= 1, found K=" + k + ", N=" + n);
    }
    int blocks = (k + blockSize - 1) / blockSize;
    int blob = blockSize / 2;
    int zpRow = (blocks + 1) / 2;
    if (b.length != (long) n * blocks * blob || scales.length != (long) n * blocks) {
      throw new IllegalArgumentException(
          "MatMulNBits B has "
              + b.length
              + " bytes and scales "
              + scales.length
              + " values; K="
              + k
              + ", N="
              + n
              + ", block_size="
              + blockSize
              + " need "
              + (long) n * blocks * blob
              + " and "
              + (long) n * blocks);
    }
    if (zeroPoints != null && zeroPoints.length != (long) n * zpRow) {
      throw new IllegalArgumentException(
          "MatMulNBits zero_points has "
              + zeroPoints.length
              + " bytes, expected "
              + (long) n * zpRow
              + " (4-bit packed)");
    }
    int kp = Tiling.roundUp(blocks * blockSize, Math.max(64, blockSize));
    int ipr = kp / 8;
    int bpr = kp / blockSize;
    int[] q = new int[Math.multiplyExact(n, ipr)];
    float[] sc = new float[n * bpr];
    float[] sz = new float[n * bpr];
    boolean symmetric = true;
    for (int r = 0; r < n; r++) {
      int rowBase = r * ipr;
      for (int blk = 0; blk < blocks; blk++) {
        int base = (r * blocks + blk) * blob;
        for (int j = 0; j < blockSize; j++) {
          int kk = blk * blockSize + j;
          int code = (b[base + (j >> 1)] >> ((j & 1) * 4)) & 15;
          // stored as code ^ 8: read as a signed nibble it is code - 8
          q[rowBase + (kk >> 6) * 8 + (kk & 7)] |= (code ^ 8) << (4 * ((kk >> 3) & 7));
        }
        int zero =
            zeroPoints == null ? 8 : (zeroPoints[r * zpRow + (blk >> 1)] >> ((blk & 1) * 4)) & 15;
        float s = scales[r * blocks + blk];
        sc[r * bpr + blk] = s;
        sz[r * bpr + blk] = s * (zero - 8);
        symmetric &= zero == 8;
      }
    }
    long stored = b.length + 4L * scales.length + (zeroPoints == null ? 0 : zeroPoints.length);
    return new Int4Linear(
        k, n, blockSize, q, sc, symmetric ? null : sz, stored, int8ActivationsByDefault());
  }

  @Override
  public int inFeatures() {
    return k;
  }

  @Override
  public int outFeatures() {
    return n;
  }

  /** The block size along K. */
  public int blockSize() {
    return blockSize;
  }

  @Override
  public long weightBytes() {
    return storedBytes;
  }

  @Override
  public void multiply(float[] x, int m, float[] y, Impl impl, KernelPool pool) {
    QuantizedLinear.checkSizes(x, m, y, k, n);
    if (m == 0) {
      return;
    }
    boolean vector = QuantizedLinear.useVector(impl);
    if (vector && m >= Panels.MIN_ROWS) {
      // several rows: dequantize panels once, float products; in int8-activation mode of the
      // activations rounded as that mode rounds them, so a row's result does not depend on M
      Panels.run(
          pool,
          n,
          m,
          kp,
          int8Activations && blockSize >= 32 ? rounded(x, m) : Int8Linear.pad(x, m, k, kp),
          y,
          (o0, o1, wt) -> VectorGemm.dequantize(this, o0, o1, wt));
      return;
    }
    if (int8Activations && blockSize >= 32) {
      multiplyInt8(x, m, y, vector, pool);
      return;
    }
    // Per call: X padded to Kp, and per-block sums of X (for the zero points), summed in a local
    // (adding into the array element by element made each step wait on the previous store).
    float[] xp = Int8Linear.pad(x, m, k, kp);
    float[] xsum = new float[m * blocksPerRow];
    for (int r = 0; r < m; r++) {
      for (int blk = 0; blk * blockSize < k; blk++) {
        float sum = 0;
        for (int i = r * k + blk * blockSize; i < r * k + Math.min(k, (blk + 1) * blockSize); i++) {
          sum += x[i];
        }
        xsum[r * blocksPerRow + blk] = sum;
      }
    }
    Tiling.run(
        pool,
        n,
        m,
        4L * intsPerRow,
        vector
            ? (n0, n1) -> VectorGemm.int4(this, xp, xsum, m, n0, n1, y)
            : (n0, n1) -> scalar(xp, xsum, m, n0, n1, y));
  }

  /**
   * Columns {@code [o0, o1)} of W dequantized, transposed, into {@code dst}: {@code dst[(o - o0) *
   * K + i] = W[i, o] = scale * (q - zero)}, the values the several-row (panel) path multiplies by.
   * For callers that hand a product with many rows to a float GEMM; the buffer is theirs, so the
   * float copy exists only as long as they keep it. Split over {@code pool}.
   *
   * @throws IllegalStateException in int8-activation mode (its products round X, which a float GEMM
   *     of the dequantized weight would not)
   * @throws IllegalArgumentException when the range or {@code dst}'s capacity does not fit
   */
  public void dequantizeTransposed(int o0, int o1, java.nio.FloatBuffer dst, KernelPool pool) {
    if (int8Activations && blockSize >= 32) {
      throw new IllegalStateException(
          "an int4 layer in int8-activation mode is not dequantized for a float product");
    }
    checkRange(o0, o1, n, k, dst);
    boolean vector = QuantizedLinear.useVector(Impl.AUTO);
    Panels.dequantizeInto(
        pool,
        o0,
        o1,
        k,
        kp,
        dst,
        vector
            ? (a, b, wt) -> VectorGemm.dequantize(this, a, b, wt)
            : (a, b, wt) -> scalarDequantize(a, b, wt));
  }

  static void checkRange(int o0, int o1, int n, int k, java.nio.FloatBuffer dst) {
    if (o0 < 0 || o1 > n || o0 >= o1 || dst.capacity() < (long) (o1 - o0) * k) {
      throw new IllegalArgumentException(
          "columns ["
              + o0
              + ", "
              + o1
              + ") of N="
              + n
              + " into a buffer of "
              + dst.capacity()
              + " floats (K="
              + k
              + ")");
    }
  }

  /** The scalar twin of {@link VectorGemm#dequantize(Int4Linear, int, int, float[])}. */
  private void scalarDequantize(int o0, int o1, float[] wt) {
    int[] w = words();
    for (int o = o0; o < o1; o++) {
      int qo = o * intsPerRow;
      int so = o * blocksPerRow;
      int d = (o - o0) * kp;
      for (int i = 0; i < kp; i++) {
        int code = (w[qo + (i >> 6) * 8 + (i & 7)] << (28 - 4 * ((i >> 3) & 7))) >> 28;
        int b = so + i / blockSize;
        wt[d + i] = Math.fma(code, scale[b], scaledZero == null ? 0f : -scaledZero[b]);
      }
    }
  }

  private void scalar(float[] xp, float[] xsum, int m, int n0, int n1, float[] y) {
    for (int r = 0; r < m; r++) {
      int xo = r * kp;
      for (int o = n0; o < n1; o++) {
        int qo = o * intsPerRow;
        int so = o * blocksPerRow;
        float acc = 0;
        for (int blk = 0; blk < blocksPerRow; blk++) {
          float dot = 0;
          for (int i = blk * blockSize; i < (blk + 1) * blockSize; i++) {
            int code = (q[qo + (i >> 6) * 8 + (i & 7)] << (28 - 4 * ((i >> 3) & 7))) >> 28;
            dot += xp[xo + i] * code; // code - 8
          }
          acc += scale[so + blk] * dot;
          if (scaledZero != null) {
            acc -= scaledZero[so + blk] * xsum[r * blocksPerRow + blk];
          }
        }
        y[r * n + o] = acc;
      }
    }
  }

  /**
   * Position of input {@code i} in a quantized activation row: the kernel reads the weight's 8 ints
   * of a 64-input chunk as 16 shorts, short lane {@code 2l+h} holding nibble slots {@code 4h..4h+3}
   * of int lane {@code l}; 4-bit slot {@code j} of that short is input {@code 64c + 8(4h+j) + l}.
   */
  static int xPos(int i) {
    int s = (i >> 3) & 7;
    return (i & ~63) + 16 * (s & 3) + 2 * (i & 7) + (s >> 2);
  }

  /**
   * X rounded as the int8-activation mode rounds it (per row and block, {@code xs * rint(x / xs)}
   * with {@code xs = max|x| / 127}), padded to rows of {@code kp}.
   */
  private float[] rounded(float[] x, int m) {
    float[] xp = new float[m * kp];
    for (int r = 0; r < m; r++) {
      for (int i0 = r * k; i0 < (r + 1) * k; i0 += blockSize) {
        int i1 = Math.min((r + 1) * k, i0 + blockSize);
        float amax = 0;
        for (int i = i0; i < i1; i++) {
          amax = Math.max(amax, Math.abs(x[i]));
        }
        int o = r * kp - r * k;
        if (amax == 0 || !Float.isFinite(amax)) {
          System.arraycopy(x, i0, xp, o + i0, i1 - i0); // zeros, or the NaN/Inf carried on
          continue;
        }
        float s = amax / 127f;
        float inv = 127f / amax;
        for (int i = i0; i < i1; i++) {
          xp[o + i] = (float) Math.rint(x[i] * inv) * s;
        }
      }
    }
    return xp;
  }

  private void multiplyInt8(float[] x, int m, float[] y, boolean vector, KernelPool pool) {
    short[] xq = new short[m * kp];
    float[] xs = new float[m * blocksPerRow];
    float[] xsum = new float[m * blocksPerRow];
    for (int r = 0; r < m; r++) {
      for (int blk = 0; blk * blockSize < k; blk++) {
        int i0 = r * k + blk * blockSize;
        int i1 = r * k + Math.min(k, (blk + 1) * blockSize);
        float amax = 0;
        float sum = 0;
        for (int i = i0; i < i1; i++) {
          amax = Math.max(amax, Math.abs(x[i]));
          sum += x[i];
        }
        xsum[r * blocksPerRow + blk] = sum;
        if (amax == 0 || !Float.isFinite(amax)) {
          // all zero: codes 0; not finite: the float sum carries the NaN/Inf into the output
          xs[r * blocksPerRow + blk] = amax == 0 ? 0 : Float.NaN;
          continue;
        }
        float s = amax / 127f;
        float inv = 127f / amax;
        xs[r * blocksPerRow + blk] = s;
        int codes = 0;
        for (int i = i0; i < i1; i++) {
          int c = (int) Math.rint(x[i] * inv);
          xq[r * kp + xPos(i - r * k)] = (short) c;
          codes += c;
        }
        // the zero point multiplies the quantized X too: the product is that of rounded X and W
        xsum[r * blocksPerRow + blk] = s * codes;
      }
    }
    Tiling.run(
        pool,
        n,
        m,
        4L * intsPerRow,
        vector
            ? (n0, n1) -> VectorGemm.int4q(this, xq, xs, xsum, m, n0, n1, y)
            : (n0, n1) -> scalarInt8(xq, xs, xsum, m, n0, n1, y));
  }

  private void scalarInt8(short[] xq, float[] xs, float[] xsum, int m, int n0, int n1, float[] y) {
    for (int r = 0; r < m; r++) {
      int xo = r * kp;
      int bo = r * blocksPerRow;
      for (int o = n0; o < n1; o++) {
        int qo = o * intsPerRow;
        int so = o * blocksPerRow;
        float acc = 0;
        for (int blk = 0; blk < blocksPerRow; blk++) {
          int dot = 0;
          for (int i = blk * blockSize; i < (blk + 1) * blockSize; i++) {
            int s = (i >> 3) & 7; // nibble slot s of word w is slot s & 3 of its half s >> 2
            short h = q16[2 * (qo + (i >> 6) * 8 + (i & 7)) + (s >> 2)];
            int code = (h << (28 - 4 * (s & 3))) >> 28;
            dot += xq[xo + xPos(i)] * code;
          }
          acc += scale[so + blk] * xs[bo + blk] * dot;
          if (scaledZero != null) {
            acc -= scaledZero[so + blk] * xsum[bo + blk];
          }
        }
        y[r * n + o] = acc;
      }
    }
  }
}
