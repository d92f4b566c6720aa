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
 */
public final class Int4Linear implements QuantizedLinear {
  final int k;
  final int n;
  final int blockSize;
  final int kp; // padded K
  final int intsPerRow; // kp / 8
  final int blocksPerRow; // kp / blockSize (padding blocks have scale 0)
  final int[] q;
  final float[] scale; // [n * blocksPerRow]
  final float[] scaledZero; // scale * (zero - 8), [n * blocksPerRow]; null when every zero is 8
  private final long storedBytes;

  private Int4Linear(
      int k, int n, int blockSize, int[] q, float[] scale, float[] scaledZero, long storedBytes) {
    this.k = k;
    this.n = n;
    this.blockSize = blockSize;
    this.kp = q.length / n * 8;
    this.intsPerRow = kp / 8;
    this.blocksPerRow = kp / blockSize;
    this.q = q;
    this.scale = scale;
    this.scaledZero = scaledZero;
    this.storedBytes = storedBytes;
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
    return new Int4Linear(k, n, blockSize, q, sc, symmetric ? null : sz, stored);
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
    // Per call: X padded to Kp (for the vector kernel each 8-input slot s scaled by 16^-s, which
    // lets it convert a nibble in place without shifting it down), and per-block sums of X.
    float[] xp = new float[m * kp];
    float[] xsum = new float[m * blocksPerRow];
    for (int r = 0; r < m; r++) {
      for (int i = 0; i < k; i++) {
        float v = x[r * k + i];
        xsum[r * blocksPerRow + i / blockSize] += v;
        xp[r * kp + i] = v;
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
}
