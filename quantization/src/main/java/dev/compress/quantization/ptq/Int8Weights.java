package dev.compress.quantization.ptq;

import dev.compress.quantization.grid.QuantizedMatrix;
import dev.compress.quantization.grid.RowSource;

/**
 * A weight matrix quantized to signed 8 bits, symmetric, one scale per output channel: {@code
 * scale_o = max_i |W[o, i]| / 127}, {@code q = clamp(round_half_even(W / scale_o), -127, 127)}, no
 * zero point. The range is symmetric (the code -128 is not used), so a weight and its negation
 * quantize alike. An all-zero row gets scale 1.
 *
 * @param rows output channels
 * @param cols input features
 * @param codes signed codes, row-major {@code (rows, cols)}
 * @param scales one per row
 */
public record Int8Weights(int rows, int cols, byte[] codes, float[] scales) {
  /** Quantizes a row-major {@code (rows, cols)} matrix; values must be finite. */
  public static Int8Weights quantize(float[] w, int rows, int cols) {
    if (w.length != (long) rows * cols) {
      throw new IllegalArgumentException(w.length + " weights for " + rows + " x " + cols);
    }
    return quantize(RowSource.of(w, cols), rows, cols);
  }

  /**
   * Quantizes a matrix read a block of rows at a time (the same result as the whole-array {@link
   * #quantize(float[], int, int)}, with one block of f32 values on the heap).
   */
  public static Int8Weights quantize(RowSource w, int rows, int cols) {
    return quantize(w, rows, cols, 127);
  }

  /**
   * As {@link #quantize(RowSource, int, int)} with codes in {@code [-qmax, qmax]}: 127 for the full
   * 8-bit range, 63 for the reduced (7-bit) range of {@link PtqLayers#REDUCE_RANGE_HELP}.
   */
  public static Int8Weights quantize(RowSource w, int rows, int cols, int qmax) {
    if (qmax < 1 || qmax > 127) {
      throw new IllegalArgumentException("qmax must be in [1, 127], found " + qmax);
    }
    byte[] codes = new byte[Math.multiplyExact(rows, cols)];
    float[] scales = new float[rows];
    int block = RowSource.blockRows(cols);
    float[] buf = new float[Math.min(block, rows) * cols];
    for (int r0 = 0; r0 < rows; r0 += block) {
      int n = Math.min(block, rows - r0);
      w.read(r0, n, buf);
      for (int j = 0; j < n; j++) {
        int r = r0 + j;
        int base = j * cols;
        float amax = 0;
        for (int c = 0; c < cols; c++) {
          float v = buf[base + c];
          if (!Float.isFinite(v)) {
            throw new IllegalArgumentException("weight at row " + r + ", column " + c + " is " + v);
          }
          amax = Math.max(amax, Math.abs(v));
        }
        float s = amax / qmax;
        if (!(s > 0) || !Float.isFinite(s)) {
          s = 1f;
        }
        scales[r] = s;
        for (int c = 0; c < cols; c++) {
          float q = (float) Math.rint(buf[base + c] / s);
          codes[r * cols + c] = (byte) Math.max(-qmax, Math.min(qmax, q));
        }
      }
    }
    return new Int8Weights(rows, cols, codes, scales);
  }

  /** The value at {@code (r, c)}. */
  public float dequantize(int r, int c) {
    return codes[r * cols + c] * scales[r];
  }

  /** SQNR against {@code original} in dB (capped at 300 when exact). */
  public double sqnrDb(float[] original) {
    return sqnrDb(RowSource.of(original, cols));
  }

  /** {@link #sqnrDb(float[])} against weights read a block of rows at a time (the same value). */
  public double sqnrDb(RowSource original) {
    int block = RowSource.blockRows(cols);
    float[] buf = new float[Math.min(block, rows) * cols];
    double sig = 0;
    double err = 0;
    for (int r0 = 0; r0 < rows; r0 += block) {
      int n = Math.min(block, rows - r0);
      original.read(r0, n, buf);
      for (int j = 0; j < n; j++) {
        for (int c = 0; c < cols; c++) {
          double v = buf[j * cols + c];
          double d = v - dequantize(r0 + j, c);
          sig += v * v;
          err += d * d;
        }
      }
    }
    return err == 0 ? 300 : Math.min(300, 10 * Math.log10(sig / err));
  }

  /**
   * The same codes as an 8-bit symmetric per-channel {@link QuantizedMatrix} (unsigned codes {@code
   * q + 128}, zero point 128), which {@link
   * dev.compress.quantization.format.QuantizedModelWriter#writeDequantizeLinear} stores as INT8
   * {@code q} behind a per-axis {@code DequantizeLinear} with no zero point.
   */
  public QuantizedMatrix toQuantizedMatrix() {
    byte[] u = new byte[codes.length];
    for (int i = 0; i < codes.length; i++) {
      u[i] = (byte) (codes[i] + 128);
    }
    int[] zeros = new int[rows];
    java.util.Arrays.fill(zeros, 128);
    return QuantizedMatrix.of(rows, cols, 8, cols, true, u, scales, zeros);
  }
}
