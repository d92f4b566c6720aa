package dev.compress.quantization.format;

import dev.compress.quantization.grid.QuantizedMatrix;

/**
 * The weight layout of ONNX Runtime's {@code com.microsoft::MatMulNBits} contrib operator ({@code Y
 * = A @ dequant(B)^T}), packed from and unpacked to a {@link QuantizedMatrix}.
 *
 * <p>With {@code K} input features, {@code N} outputs, {@code bits} in {4, 8} and {@code
 * block_size} a power of two of at least 16:
 *
 * <ul>
 *   <li>{@code n_blocks = ceil(K / block_size)}, {@code blob_size = block_size * bits / 8};
 *   <li>{@code B}: uint8 {@code [N, n_blocks, blob_size]}, the unsigned codes of output row {@code
 *       n} in input order, each block packed low bits first (4 bits: element {@code 2j} in the low
 *       nibble of byte {@code j}, element {@code 2j+1} in the high nibble); the tail of the last
 *       block past {@code K} is padding (written as the block's zero point, so it stands for 0);
 *   <li>{@code scales}: f32 {@code [N * n_blocks]}, row-major {@code (N, n_blocks)};
 *   <li>{@code zero_points} (asymmetric only): uint8, packed like {@code B} per output row: 4 bits
 *       {@code [N * ceil(n_blocks / 2)]} (block {@code 2j} in the low nibble), 8 bits {@code [N *
 *       n_blocks]}. Without it ONNX Runtime uses {@code 2^(bits-1)}, which is exactly the zero
 *       point of the symmetric {@link dev.compress.quantization.grid.MinMaxGrid}.
 * </ul>
 *
 * <p>A {@link QuantizedMatrix} maps onto this layout when its groups are the blocks ({@code
 * groupSize == block_size}) or when it is per-channel and one block spans all of {@code K} ({@code
 * block_size >= K}, padded).
 */
public final class MatMulNBitsLayout {
  /** The help text of the {@code accuracyLevel} key of the passes that write MatMulNBits. */
  public static final String ACCURACY_LEVEL_HELP =
      "MatMulNBits accuracy_level: 0 unset, float activations; 4 int8 compute, activations"
          + " quantized to int8 per block by ONNX Runtime and our kernels";

  /**
   * The largest block ONNX Runtime 1.22's CPU kernel computes correctly. Larger powers of two are
   * accepted when the model loads but give wrong outputs (measured: block 512 and up give garbage,
   * NaN or 1e35, for any K; 16 to 256 are bit-exact), so the writer never emits them.
   */
  public static final int MAX_ORT_BLOCK_SIZE = 256;

  /**
   * {@code MatMulNBits}' {@code accuracy_level} that asks for int8 compute: activations quantized
   * to int8 per block (ONNX Runtime's CPU kernel and ours). 0 leaves it unset (float activations);
   * 1, 2, 3 name fp32, fp16 and bf16 compute.
   */
  public static final int ACCURACY_INT8 = 4;

  /**
   * The problem with an {@code accuracyLevel} pass option, if any: it must be 0 to 4, and only a
   * pass that writes MatMulNBits takes a non-zero level.
   *
   * @param matMulNBits whether the pass's settings write MatMulNBits
   * @param otherwise the settings that do not, for the message (e.g. {@code "bits=8"})
   */
  public static java.util.Optional<String> accuracyLevelProblem(
      int level, boolean matMulNBits, String otherwise) {
    if (level < 0 || level > ACCURACY_INT8) {
      return java.util.Optional.of(
          "accuracyLevel must be 0 (unset), 1 (fp32), 2 (fp16), 3 (bf16) or 4 (int8 compute),"
              + " found "
              + level);
    }
    if (level != 0 && !matMulNBits) {
      return java.util.Optional.of(
          "accuracyLevel applies to MatMulNBits output only; found accuracyLevel="
              + level
              + " with "
              + otherwise
              + " (written as DequantizeLinear)");
    }
    return java.util.Optional.empty();
  }

  private MatMulNBitsLayout() {}

  /**
   * The packed tensors of one weight.
   *
   * @param k input features ({@code K})
   * @param n outputs ({@code N})
   * @param bits bits per code
   * @param blockSize codes per block
   * @param b {@code [N, n_blocks, blob_size]}
   * @param scales {@code [N * n_blocks]}
   * @param zeroPoints packed zero points, or null for symmetric
   */
  public record Packed(
      int k, int n, int bits, int blockSize, byte[] b, float[] scales, byte[] zeroPoints) {

    /** Blocks per output row. */
    public int blocks() {
      return MatMulNBitsLayout.blocks(k, blockSize);
    }

    /** Bytes per block. */
    public int blobSize() {
      return blockSize * bits / 8;
    }

    /** Bytes of zero points per output row. */
    public int zeroPointBytesPerRow() {
      return (blocks() * bits + 7) / 8;
    }

    /** The shape of {@code B}. */
    public long[] bShape() {
      return new long[] {n, blocks(), blobSize()};
    }
  }

  /** Blocks per output row, {@code ceil(k / blockSize)}. */
  public static int blocks(int k, int blockSize) {
    return (k + blockSize - 1) / blockSize;
  }

  /** Whether ONNX Runtime accepts {@code blockSize}: a power of two of at least 16. */
  public static boolean validBlockSize(int blockSize) {
    return blockSize >= 16 && Integer.bitCount(blockSize) == 1;
  }

  /**
   * The block size that holds a per-channel row of {@code k} features in one block: the smallest
   * valid block size of at least {@code k}.
   */
  public static int perChannelBlockSize(int k) {
    return Math.max(16, Integer.highestOneBit(Math.max(1, k - 1)) << 1);
  }

  /**
   * Packs a quantized {@code (N, K)} matrix.
   *
   * @throws IllegalArgumentException when the bits are not 4 or 8, the block size is invalid, or
   *     the matrix's groups are not the blocks
   */
  public static Packed pack(QuantizedMatrix q, int blockSize) {
    int bits = q.bits();
    if (bits != 4 && bits != 8) {
      throw new IllegalArgumentException("MatMulNBits packs 4 or 8 bits here, found " + bits);
    }
    if (!validBlockSize(blockSize)) {
      throw new IllegalArgumentException(
          "block_size must be a power of two >= 16, found " + blockSize);
    }
    int k = q.cols();
    int n = q.rows();
    int blocks = blocks(k, blockSize);
    if (!(q.groupSize() == blockSize || (q.groups() == 1 && blocks == 1))) {
      throw new IllegalArgumentException(
          "groups of "
              + q.groupSize()
              + " over "
              + k
              + " features do not map onto blocks of "
              + blockSize);
    }
    int blob = blockSize * bits / 8;
    byte[] b = new byte[Math.multiplyExact(Math.multiplyExact(n, blocks), blob)];
    float[] scales = new float[n * blocks];
    int zpRow = (blocks * bits + 7) / 8;
    byte[] zp = q.symmetric() ? null : new byte[n * zpRow];
    for (int r = 0; r < n; r++) {
      for (int blk = 0; blk < blocks; blk++) {
        scales[r * blocks + blk] = q.scale(r, blk);
        int zero = q.zero(r, blk);
        int base = (r * blocks + blk) * blob;
        for (int j = 0; j < blockSize; j++) {
          int c = blk * blockSize + j;
          int code = c < k ? q.code(r, c) : zero;
          if (bits == 8) {
            b[base + j] = (byte) code;
          } else {
            b[base + (j >> 1)] |= (byte) (code << ((j & 1) * 4));
          }
        }
        if (zp != null) {
          if (bits == 8) {
            zp[r * zpRow + blk] = (byte) zero;
          } else {
            zp[r * zpRow + (blk >> 1)] |= (byte) (zero << ((blk & 1) * 4));
          }
        }
      }
    }
    return new Packed(k, n, bits, blockSize, b, scales, zp);
  }

  /**
   * Unpacks the tensors of a {@code MatMulNBits} node into a quantized matrix (padding dropped).
   *
   * @throws IllegalArgumentException when the sizes do not match the attributes, or the blocks do
   *     not divide {@code k} and there is more than one
   */
  public static QuantizedMatrix unpack(Packed p) {
    int k = p.k();
    int n = p.n();
    int bits = p.bits();
    int blocks = p.blocks();
    int blob = p.blobSize();
    if (p.b().length != (long) n * blocks * blob || p.scales().length != (long) n * blocks) {
      throw new IllegalArgumentException(
          "B has "
              + p.b().length
              + " bytes and scales "
              + p.scales().length
              + " values; K="
              + k
              + ", N="
              + n
              + ", block_size="
              + p.blockSize()
              + " need "
              + (long) n * blocks * blob
              + " and "
              + (long) n * blocks);
    }
    int zpRow = p.zeroPointBytesPerRow();
    if (p.zeroPoints() != null && p.zeroPoints().length != (long) n * zpRow) {
      throw new IllegalArgumentException(
          "zero_points has " + p.zeroPoints().length + " bytes, expected " + (long) n * zpRow);
    }
    int groupSize = blocks == 1 ? k : p.blockSize();
    if (k % groupSize != 0) {
      throw new IllegalArgumentException(
          "K=" + k + " is not a multiple of block_size " + p.blockSize());
    }
    byte[] codes = new byte[n * k];
    int[] zeros = new int[n * blocks];
    int mask = (1 << bits) - 1;
    for (int r = 0; r < n; r++) {
      for (int blk = 0; blk < blocks; blk++) {
        int base = (r * blocks + blk) * blob;
        for (int j = 0; j < p.blockSize(); j++) {
          int c = blk * p.blockSize() + j;
          if (c >= k) {
            break;
          }
          int code =
              bits == 8 ? p.b()[base + j] & 0xff : (p.b()[base + (j >> 1)] >> ((j & 1) * 4)) & mask;
          codes[r * k + c] = (byte) code;
        }
        int zero;
        if (p.zeroPoints() == null) {
          zero = 1 << (bits - 1);
        } else if (bits == 8) {
          zero = p.zeroPoints()[r * zpRow + blk] & 0xff;
        } else {
          zero = (p.zeroPoints()[r * zpRow + (blk >> 1)] >> ((blk & 1) * 4)) & mask;
        }
        zeros[r * blocks + blk] = zero;
      }
    }
    return QuantizedMatrix.of(
        n, k, bits, groupSize, p.zeroPoints() == null, codes, p.scales(), zeros);
  }
}
