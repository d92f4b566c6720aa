package dev.compress.quantization.grid;

/**
 * The rows of a row-major {@code (rows, cols)} f32 matrix, read a block at a time, so that a
 * quantizer holds one block of a weight on the heap rather than the whole matrix (the weight itself
 * is usually a memory-mapped tensor; see {@link
 * dev.compress.quantization.format.WeightMatrix#rows}).
 */
@FunctionalInterface
public interface RowSource {
  /** Elements per block a streaming reader uses (256 KiB of f32), at least one row. */
  int BLOCK_ELEMENTS = 1 << 16;

  /**
   * Writes rows {@code [row0, row0 + rows)} into {@code dst[0, rows * cols)}, row-major.
   *
   * @param dst at least {@code rows * cols} long
   */
  void read(int row0, int rows, float[] dst);

  /**
   * Rows per block for a matrix with {@code cols} columns: {@link #BLOCK_ELEMENTS} / cols, >= 1.
   */
  static int blockRows(int cols) {
    return Math.max(1, BLOCK_ELEMENTS / Math.max(1, cols));
  }

  /** The rows of a heap array {@code w[r * cols + c]}. */
  static RowSource of(float[] w, int cols) {
    return (row0, rows, dst) ->
        System.arraycopy(w, Math.multiplyExact(row0, cols), dst, 0, Math.multiplyExact(rows, cols));
  }
}
