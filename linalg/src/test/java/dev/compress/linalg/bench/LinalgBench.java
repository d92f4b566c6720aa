package dev.compress.linalg.bench;

import dev.compress.fixtures.Gaussian;
import dev.compress.linalg.Linalg;
import dev.compress.linalg.Matrix;
import dev.compress.linalg.Svd;
import dev.compress.linalg.SvdMethod;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Times the {@link Linalg} operations that matter to the passes: Cholesky and the Cholesky factor
 * of the inverse (GPTQ) at 1024 and 4096, and rank-64 truncated SVD (low-rank) by each method, plus
 * a size sweep behind {@link Linalg#AUTO_EXACT_MAX_DIM}. A benchmark, not a test: run by hand,
 * never by {@code verify}.
 *
 * <pre>
 * ./mvnw -q -pl linalg test-compile
 * ./mvnw -q -pl linalg dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java --enable-native-access=ALL-UNNAMED -Xmx8g \
 *   -cp linalg/target/test-classes:linalg/target/classes:$(cat linalg/target/cp.txt) \
 *   dev.compress.linalg.bench.LinalgBench [--quick]
 * </pre>
 *
 * <p>Each row is the median of several timed runs after one warm-up run ({@code --quick}: one timed
 * run, no 4096 exact work). Times include copying between the Java heap and native memory, which is
 * what a caller pays. The GEMM row measures this machine's double-precision rate in the same run,
 * so the other rows can be read as a fraction of it.
 */
public final class LinalgBench {
  private LinalgBench() {}

  /** Entry point; see the class comment for the flags. */
  public static void main(String[] args) {
    boolean quick = Arrays.asList(args).contains("--quick");
    int reps = quick ? 1 : 3;
    System.out.printf(
        "cores=%d  java=%s  OPENBLAS_NUM_THREADS=%s%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        System.getenv().getOrDefault("OPENBLAS_NUM_THREADS", "(unset)"));
    header();

    for (int n : new int[] {1024, 4096}) {
      Matrix g = gaussian(n, n, 1);
      double flops = 2.0 * n * n * n;
      row(
          "gemm (reference rate)",
          n,
          "dgemm",
          time(() -> Linalg.multiply(g, g), n > 1024 ? 1 : reps),
          flops);
    }

    for (int n : new int[] {1024, 4096}) {
      Matrix spd = diagonallyDominantSpd(n, 2);
      int r = n > 1024 ? Math.max(1, reps - 1) : reps;
      double third = n * (double) n * n / 3;
      row("cholesky", n, "dpotrf", time(() -> Linalg.cholesky(spd), r), third);
      row(
          "choleskyOfInverse",
          n,
          "potrf+trtri",
          time(() -> Linalg.choleskyOfInverse(spd, true), r),
          2 * third);
      Matrix l = Linalg.cholesky(spd);
      row("choleskyInverse", n, "dpotri", time(() -> Linalg.choleskyInverse(l), r), 2 * third);
      if (n <= 1024) {
        row("eigh", n, "dsyevd", time(() -> Linalg.eigh(spd), reps), Double.NaN);
      }
    }

    int k = 64;
    for (int n : new int[] {1024, 4096}) {
      Matrix a = gaussian(n, n, 3);
      int r = n > 1024 ? 1 : reps;
      row(
          "truncatedSvd k=64",
          n,
          "randomized",
          time(() -> svd(a, k, SvdMethod.RANDOMIZED), r),
          Double.NaN);
      // Gram at 4096 takes tens of seconds: time it once, without a warm-up run
      row(
          "truncatedSvd k=64",
          n,
          "gram",
          time(() -> svd(a, k, SvdMethod.GRAM), r, n <= 1024),
          Double.NaN);
      if (n <= 1024) {
        row(
            "truncatedSvd k=64",
            n,
            "exact (gesdd)",
            time(() -> svd(a, k, SvdMethod.EXACT), r),
            Double.NaN);
      }
    }

    System.out.println();
    System.out.println("AUTO crossover sweep (square, k=64): exact vs randomized");
    header();
    for (int n : new int[] {256, 384, 512, 768, 1024}) {
      Matrix a = gaussian(n, n, 4);
      row(
          "truncatedSvd k=64",
          n,
          "exact (gesdd)",
          time(() -> svd(a, k, SvdMethod.EXACT), reps),
          Double.NaN);
      row(
          "truncatedSvd k=64",
          n,
          "randomized",
          time(() -> svd(a, k, SvdMethod.RANDOMIZED), reps),
          Double.NaN);
    }

    System.out.println();
    System.out.println(
        "Accuracy of the fast methods on a 1024x1024 Gaussian (flat spectrum, worst case):");
    Matrix a = gaussian(1024, 1024, 3);
    Svd exactSvd = svd(a, k, SvdMethod.EXACT);
    double[] exact = exactSvd.s();
    double optimal = frobeniusDistance(a, exactSvd.reconstruct());
    for (SvdMethod m : new SvdMethod[] {SvdMethod.RANDOMIZED, SvdMethod.GRAM}) {
      Svd fast = svd(a, k, m);
      double[] s = fast.s();
      System.out.printf(
          Locale.ROOT,
          "  %-10s  s[0] rel err %.2e   s[63] rel err %.2e   ||A - A_k||_F / optimal - 1 = %.2e%n",
          m,
          Math.abs(s[0] - exact[0]) / exact[0],
          Math.abs(s[k - 1] - exact[k - 1]) / exact[k - 1],
          frobeniusDistance(a, fast.reconstruct()) / optimal - 1);
    }
  }

  private static Svd svd(Matrix a, int k, SvdMethod method) {
    return Linalg.truncatedSvd(a, k, method, 17);
  }

  static void header() {
    System.out.printf(
        Locale.ROOT,
        "%-22s %6s %-15s %10s %10s %9s%n",
        "operation",
        "n",
        "method",
        "median ms",
        "min ms",
        "GFLOP/s");
  }

  static void row(String op, int n, String method, double[] ms, double flops) {
    double median = ms[ms.length / 2];
    System.out.printf(
        Locale.ROOT,
        "%-22s %6d %-15s %10.1f %10.1f %9s%n",
        op,
        n,
        method,
        median,
        ms[0],
        Double.isNaN(flops) ? "" : String.format(Locale.ROOT, "%.1f", flops / median / 1e6));
  }

  /** One warm-up run, then {@code reps} timed runs; sorted milliseconds. */
  static double[] time(Supplier<?> work, int reps) {
    return time(work, reps, true);
  }

  /** Optionally one warm-up run, then {@code reps} timed runs; sorted milliseconds. */
  static double[] time(Supplier<?> work, int reps, boolean warmUp) {
    if (warmUp) {
      work.get();
    }
    double[] ms = new double[reps];
    for (int i = 0; i < reps; i++) {
      long t0 = System.nanoTime();
      Object sink = work.get();
      ms[i] = (System.nanoTime() - t0) / 1e6;
      if (sink == null) {
        throw new AssertionError();
      }
    }
    Arrays.sort(ms);
    return ms;
  }

  static double frobeniusDistance(Matrix a, Matrix b) {
    double[] x = a.toArray();
    double[] y = b.toArray();
    double sum = 0;
    for (int i = 0; i < x.length; i++) {
      sum += (x[i] - y[i]) * (x[i] - y[i]);
    }
    return Math.sqrt(sum);
  }

  static Matrix gaussian(int m, int n, long seed) {
    return Matrix.wrap(m, n, Gaussian.doubles(new Random(seed), m * n));
  }

  /**
   * {@code R + R^T + 2n I} with {@code R} uniform in (-1, 1): SPD by Gershgorin, cheap to build.
   */
  static Matrix diagonallyDominantSpd(int n, long seed) {
    Random r = new Random(seed);
    double[] d = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        double v = 2 * r.nextDouble() - 1 + 2 * r.nextDouble() - 1;
        d[i * n + j] = v;
        d[j * n + i] = v;
      }
      d[i * n + i] = 2.0 * n;
    }
    return Matrix.wrap(n, n, d);
  }
}
