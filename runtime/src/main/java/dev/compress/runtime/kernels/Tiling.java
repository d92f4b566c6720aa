package dev.compress.runtime.kernels;

/** Splits the N outputs of a product into tiles for the pool. */
final class Tiling {
  private Tiling() {}

  /** L2 budget of weight bytes one tile re-reads for each group of X rows. */
  private static final int L2_BUDGET = 192 << 10;

  /** The body of one tile: outputs {@code [n0, n1)} for all rows. */
  @FunctionalInterface
  interface Range {
    void run(int n0, int n1);
  }

  /**
   * Runs {@code body} over N split into tiles: about 4 tiles per thread for balance, fewer rows
   * when X has several rows so that the tile's weights stay in L2 while all rows stream past.
   */
  static void run(KernelPool pool, int n, int m, long bytesPerRow, Range body) {
    int threads = pool.threads();
    int rows = Math.max(1, (n + 4 * threads - 1) / (4 * threads));
    if (m > 1) {
      rows = (int) Math.max(1, Math.min(rows, L2_BUDGET / Math.max(1, bytesPerRow)));
    }
    rows = Math.max(rows, Math.min(n, 4)); // at least 4 rows: tiles are not free
    int size = rows;
    int tiles = (n + size - 1) / size;
    pool.run(tiles, t -> body.run(t * size, Math.min(n, (t + 1) * size)));
  }

  static int roundUp(int v, int multiple) {
    return Math.addExact(v, multiple - 1) / multiple * multiple;
  }
}
