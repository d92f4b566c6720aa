package dev.compress.benchmarks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.compress.runtime.kernels.Int4Linear;
import dev.compress.runtime.kernels.Int8Linear;
import dev.compress.runtime.kernels.KernelPool;
import dev.compress.runtime.kernels.QuantizedLinear;
import dev.compress.runtime.kernels.W8A8Linear;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * A quick interleaved comparison for development (JMH is the reference): each round runs every
 * variant once in turn, so machine noise hits all alike; prints medians. Args: K N M [rounds].
 */
public final class QuickCheck {
  private QuickCheck() {}

  public static void main(String[] args) throws Exception {
    int k = Integer.parseInt(args[0]);
    int n = Integer.parseInt(args[1]);
    int m = Integer.parseInt(args[2]);
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 200;
    int copies = Integer.getInteger("copies", k >= 4096 ? 16 : 1);
    Random rnd = new Random(1);
    float[] x = new float[m * k];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    float[] y = new float[m * n];
    byte[] b4 = new byte[n * k / 2];
    rnd.nextBytes(b4);
    float[] s4 = new float[n * (k / 128)];
    Arrays.fill(s4, 0.01f);
    byte[] b8 = new byte[n * k];
    rnd.nextBytes(b8);
    float[] s8 = new float[n];
    Arrays.fill(s8, 0.01f);
    QuantizedLinear[] i4 = new QuantizedLinear[copies];
    QuantizedLinear[] i4q = new QuantizedLinear[copies];
    QuantizedLinear[] i8 = new QuantizedLinear[copies / 2 + 1];
    QuantizedLinear[] w8 = new QuantizedLinear[copies / 2 + 1];
    for (int c = 0; c < i4.length; c++) {
      i4[c] = Int4Linear.fromMatMulNBits(b4, s4, null, k, n, 128);
      i4q[c] = ((Int4Linear) i4[c]).withInt8Activations(true);
    }
    for (int c = 0; c < i8.length; c++) {
      i8[c] = Int8Linear.of(b8, false, k, n, false, s8, null);
      w8[c] = W8A8Linear.of(b8, false, k, n, false, s8, null);
    }
    int[] big = new int[128 << 20]; // 512 MiB
    NDManager nd = NDManager.newBaseManager("PyTorch");
    NDArray xa = nd.create(x, new Shape(m, k));
    NDArray[] wf = new NDArray[k >= 4096 ? 2 : 1];
    float[] w = new float[k * n];
    for (int c = 0; c < wf.length; c++) {
      wf[c] = nd.create(w, new Shape(k, n));
    }
    String[] names = {"int4", "int8", "w8a8", "djl-fp32", "int4-a8", "bandwidth"};
    List<List<Long>> t = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      t.add(new ArrayList<>());
    }
    for (int r = 0; r < rounds; r++) {
      for (int v = 0; v < names.length; v++) {
        if (v == 5 && r % 10 != 0) {
          continue;
        }
        long t0 = System.nanoTime();
        switch (v) {
          case 0 -> i4[r % i4.length].multiply(x, m, y);
          case 1 -> i8[r % i8.length].multiply(x, m, y);
          case 2 -> w8[r % w8.length].multiply(x, m, y);
          case 4 -> i4q[r % i4q.length].multiply(x, m, y);
          case 3 -> {
            try (NDArray o = xa.matMul(wf[r % wf.length])) {
              o.getShape();
            }
          }
          default -> sink += readAll(big);
        }
        t.get(v).add(System.nanoTime() - t0);
      }
    }
    double bwNs = median(t.get(5));
    double gbps = big.length * 4.0 / bwNs;
    System.out.printf(
        Locale.ROOT, "K=%d N=%d M=%d, %d rounds, bandwidth %.1f GB/s%n", k, n, m, rounds, gbps);
    long[] bytes = {
      (long) k * n / 2 + 4L * s4.length,
      (long) k * n + 4L * n,
      (long) k * n + 4L * n,
      4L * k * n,
      (long) k * n / 2 + 4L * s4.length
    };
    for (int v = 0; v < 5; v++) {
      double ns = median(t.get(v));
      System.out.printf(
          Locale.ROOT,
          "  %-9s %9.1f us  %6.1f GB/s (%3.0f%% of bw)  fp32/this %.2fx%n",
          names[v],
          ns / 1e3,
          bytes[v] / ns,
          100 * bytes[v] / ns / gbps,
          median(t.get(3)) / ns);
    }
    nd.close();
  }

  static long sink;

  private static long readAll(int[] data) {
    int tiles = 64;
    int per = data.length / tiles;
    long[] part = new long[tiles];
    KernelPool.shared()
        .run(
            tiles,
            tt -> {
              long s = 0;
              for (int i = tt * per; i < (tt + 1) * per; i += 16) {
                s += data[i];
              }
              part[tt] = s;
            });
    return Arrays.stream(part).sum();
  }

  private static double median(List<Long> v) {
    long[] a = v.stream().mapToLong(Long::longValue).sorted().toArray();
    return a.length == 0 ? Double.NaN : a[a.length / 2];
  }
}
