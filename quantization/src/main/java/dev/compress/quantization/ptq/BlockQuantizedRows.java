package dev.compress.quantization.ptq;

import dev.compress.quantization.grid.RowSource;

/**
 * A matrix quantized to symmetric 4-bit codes in blocks of {@code blockSize} consecutive values of
 * a row, one f32 scale per block, stored the way {@code com.microsoft::GatherBlockQuantized} reads
 * {@code uint8} data: two codes a byte, the lower column in the low nibble, each code offset by 8
 * (the kernel's implicit zero point), so a value is {@code (nibble - 8) * scale}.
 *
 * <p>Each block's scale is searched: {@code scale = ratio * max|v| / 7} for ratio in {1, 0.95, ...,
 * 0.70}, keeping the one with the least squared error (codes clamped to [-8, 7], rounded half to
 * even); an all-zero block gets scale 1.
 *
 * @param rows rows
 * @param cols values per row (a multiple of {@code blockSize})
 * @param blockSize values per scale
 * @param packed {@code (rows, cols / 2)} row-major
 * @param scales {@code (rows, cols / blockSize)} row-major
 */
record BlockQuantizedRows(int rows, int cols, int blockSize, byte[] packed, float[] scales) {
  private static final int RATIOS = 7;

  /** Quantizes a matrix read a block of rows at a time. */
  static BlockQuantizedRows quantize(RowSource w, int rows, int cols, int blockSize) {
    if (cols % blockSize != 0 || blockSize % 2 != 0) {
      throw new IllegalArgumentException(cols + " columns in blocks of " + blockSize);
    }
    int blocks = cols / blockSize;
    byte[] packed = new byte[Math.multiplyExact(rows, cols / 2)];
    float[] scales = new float[Math.multiplyExact(rows, blocks)];
    int chunk = RowSource.blockRows(cols);
    float[] buf = new float[Math.min(chunk, rows) * cols];
    int[] codes = new int[blockSize];
    for (int r0 = 0; r0 < rows; r0 += chunk) {
      int n = Math.min(chunk, rows - r0);
      w.read(r0, n, buf);
      for (int j = 0; j < n; j++) {
        int r = r0 + j;
        for (int b = 0; b < blocks; b++) {
          int off = j * cols + b * blockSize;
          float scale = searchScale(buf, off, blockSize, r, b * blockSize);
          scales[r * blocks + b] = scale;
          for (int c = 0; c < blockSize; c++) {
            codes[c] = code(buf[off + c], scale);
          }
          int out = r * (cols / 2) + b * blockSize / 2;
          for (int c = 0; c < blockSize; c += 2) {
            packed[out + c / 2] = (byte) (((codes[c + 1] + 8) << 4) | (codes[c] + 8));
          }
        }
      }
    }
    return new BlockQuantizedRows(rows, cols, blockSize, packed, scales);
  }

  /** The dequantized value at {@code (r, c)}. */
  float dequantize(int r, int c) {
    int b = packed[r * (cols / 2) + c / 2] & 0xFF;
    int nibble = (c % 2 == 0) ? b & 0xF : b >>> 4;
    return (nibble - 8) * scales[r * (cols / blockSize) + c / blockSize];
  }

  private static int code(float v, float scale) {
    return (int) Math.max(-8, Math.min(7, Math.rint(v / scale)));
  }

  private static float searchScale(float[] v, int off, int len, int row, int col) {
    float amax = 0;
    for (int i = 0; i < len; i++) {
      float x = v[off + i];
      if (!Float.isFinite(x)) {
        throw new IllegalArgumentException(
            "value at row " + row + ", column " + (col + i) + " is " + x);
      }
      amax = Math.max(amax, Math.abs(x));
    }
    if (amax == 0) {
      return 1f;
    }
    float best = amax / 7f;
    double bestErr = Double.MAX_VALUE;
    for (int k = 0; k < RATIOS; k++) {
      float s = (1f - 0.05f * k) * amax / 7f;
      double err = 0;
      for (int i = 0; i < len; i++) {
        double d = v[off + i] - code(v[off + i], s) * (double) s;
        err += d * d;
      }
      if (err < bestErr) {
        bestErr = err;
        best = s;
      }
    }
    return best;
  }
}
