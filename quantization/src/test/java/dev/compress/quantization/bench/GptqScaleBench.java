package dev.compress.quantization.bench;

import dev.compress.calibration.hessian.HessianAccumulator;
import dev.compress.linalg.Linalg;
import dev.compress.linalg.Matrix;
import dev.compress.quantization.gptq.GptqConfig;
import dev.compress.quantization.gptq.GptqQuantizer;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.SplittableRandom;

/**
 * GPTQ at scale: one {@code dim x dim} layer (default 4096) with {@code sequences x tokens}
 * calibration tokens (default 128 x 512), against computing {@code X^T X} itself with the same BLAS
 * on the same cores. Prints, in one run: the time of plain {@code X^T X} over all tokens, the time
 * of the running-mean {@link HessianAccumulator} over the same tokens (interleaved chunk by chunk
 * with the plain product, so machine noise hits both alike), the time of the GPTQ solve ({@link
 * GptqQuantizer}: damping, Cholesky of the inverse, 128-column blocks with lazy updates) and the
 * ratio (accumulate + solve) / X^T X; then the peak heap. Activations are generated one sequence at
 * a time (generation not timed), so memory stays bounded by one layer's weight, Hessian and factor.
 * A benchmark: it never asserts.
 *
 * <p>Run: {@code ./mvnw -q -pl quantization test-compile exec:exec -Pgptq-bench} ({@code
 * -Dbench.dim=4096 -Dbench.sequences=128 -Dbench.tokens=512}).
 */
public final class GptqScaleBench {
  private GptqScaleBench() {}

  /** Args: dim, sequences, tokens per sequence. */
  public static void main(String[] args) {
    int dim = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
    int sequences = args.length > 1 ? Integer.parseInt(args[1]) : 128;
    int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 512;
    System.out.printf(
        "GPTQ scale bench: %d x %d layer, %d x %d calibration tokens, %d cores, Java %s%n",
        dim, dim, sequences, tokens, Runtime.getRuntime().availableProcessors(), Runtime.version());
    SplittableRandom rnd = new SplittableRandom(42);
    float[] w = new float[dim * dim];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (rnd.nextGaussian() * 0.02);
    }
    double[] colScale = new double[dim];
    for (int c = 0; c < dim; c++) {
      colScale[c] = Math.exp(rnd.nextGaussian() * 0.5);
    }
    resetPeaks();

    HessianAccumulator acc = new HessianAccumulator(dim);
    double[] plain = new double[dim * dim];
    float[] x = new float[tokens * dim];
    long tPlain = 0;
    long tAcc = 0;
    for (int s = 0; s < sequences; s++) {
      for (int t = 0; t < tokens; t++) {
        double common = rnd.nextGaussian();
        for (int c = 0; c < dim; c++) {
          x[t * dim + c] = (float) (colScale[c] * (rnd.nextGaussian() + 0.5 * common));
        }
      }
      boolean plainFirst = (s & 1) == 0; // alternate the order each chunk
      for (int k = 0; k < 2; k++) {
        long t0 = System.nanoTime();
        if ((k == 0) == plainFirst) {
          Matrix xm = Matrix.fromFloats(tokens, dim, x);
          double[] g = Linalg.multiply(xm.transpose(), xm).toArray();
          for (int i = 0; i < g.length; i++) {
            plain[i] += g[i];
          }
          tPlain += System.nanoTime() - t0;
        } else {
          acc.add(x, tokens, 1);
          tAcc += System.nanoTime() - t0;
        }
      }
    }
    plain = null;
    long accPeak = peakHeap();
    System.gc();
    resetPeaks();
    GptqConfig cfg =
        GptqConfig.builder()
            .bits(4)
            .groupSize(128)
            .symmetric(true)
            .actOrder(false)
            .staticGroups(false)
            .dampPercent(0.01)
            .maxDampPercent(1.0)
            .blockSize(128)
            .blockPattern(null)
            .accuracyLevel(0)
            .build();
    long t0 = System.nanoTime();
    GptqQuantizer.Result r = GptqQuantizer.quantize("bench", w, dim, dim, acc.take(), cfg);
    long tSolve = System.nanoTime() - t0;
    double ms = 1e6;
    System.out.printf("X^T X (plain dgemm, all tokens):        %10.1f ms%n", tPlain / ms);
    System.out.printf("Hessian running mean (same tokens):     %10.1f ms%n", tAcc / ms);
    System.out.printf(
        "GPTQ solve (4-bit g128, blocks of 128): %10.1f ms  (loss %.4g)%n", tSolve / ms, r.loss());
    System.out.printf(
        "GPTQ total / X^T X = %.2f   (solve alone / X^T X = %.2f)%n",
        (double) (tAcc + tSolve) / tPlain, (double) tSolve / tPlain);
    System.out.printf(
        "peak heap: accumulation %.0f MiB (garbage included: the heap may grow to -Xmx before a"
            + " collection), GPTQ solve %.0f MiB%n",
        accPeak / 1048576.0, peakHeap() / 1048576.0);
    System.out.printf(
        "(max heap %.0f MiB; one %dx%d f32 weight = %.0f MiB, one f64 Hessian = %.0f MiB)%n",
        Runtime.getRuntime().maxMemory() / 1048576.0,
        dim,
        dim,
        dim * (double) dim * 4 / 1048576,
        dim * (double) dim * 8 / 1048576);
  }

  private static void resetPeaks() {
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      p.resetPeakUsage();
    }
  }

  private static long peakHeap() {
    long sum = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
        sum += p.getPeakUsage().getUsed();
      }
    }
    return sum;
  }
}
