package dev.compress.linalg.bench;

import dev.compress.linalg.Matrix;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The same work through ND4J's {@code Lapack} wrapper, to show why {@code compress-linalg} calls
 * the underlying LAPACKE routines directly. Kept apart so the main benchmark runs without ND4J.
 */
final class Nd4jComparison {
  private Nd4jComparison() {}

  static void run(int reps) {
    long t0 = System.nanoTime();
    Nd4j.create(DataType.DOUBLE, 1, 1);
    System.out.printf("  ND4J initialization: %.0f ms%n", (System.nanoTime() - t0) / 1e6);
    LinalgBench.header();
    for (int n : new int[] {1024, 4096}) {
      INDArray spd = toNd4j(LinalgBench.diagonallyDominantSpd(n, 2));
      LinalgBench.row(
          "nd4j potrf",
          n,
          "wrapper",
          LinalgBench.time(
              () -> {
                INDArray c = spd.dup('f');
                Nd4j.getBlasWrapper().lapack().potrf(c, true);
                return c;
              },
              n > 1024 ? 1 : reps),
          n * (double) n * n / 3);
    }
    int n = 1024;
    INDArray a = toNd4j(LinalgBench.gaussian(n, n, 3));
    LinalgBench.row(
        "nd4j gesvd (full)",
        n,
        "wrapper",
        LinalgBench.time(
            () -> {
              INDArray c = a.dup('f');
              INDArray s = Nd4j.create(DataType.DOUBLE, n);
              INDArray u = Nd4j.create(DataType.DOUBLE, new long[] {n, n}, 'f');
              INDArray vt = Nd4j.create(DataType.DOUBLE, new long[] {n, n}, 'f');
              Nd4j.getBlasWrapper().lapack().gesvd(c, s, u, vt);
              return s;
            },
            1,
            false),
        Double.NaN);
    INDArray spd = toNd4j(LinalgBench.diagonallyDominantSpd(n, 2));
    LinalgBench.row(
        "nd4j syev",
        n,
        "wrapper",
        LinalgBench.time(
            () -> {
              INDArray c = spd.dup('f');
              INDArray w = Nd4j.create(DataType.DOUBLE, n);
              Nd4j.getBlasWrapper().lapack().syev('V', 'L', c, w);
              return w;
            },
            reps),
        Double.NaN);
  }

  private static INDArray toNd4j(Matrix m) {
    return Nd4j.create(m.toArray(), new long[] {m.rows(), m.cols()}, 'c');
  }
}
