package dev.compress.runtime.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.runtime.kernels.QuantizedLinear.Impl;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The kernels against their scalar references (tight) and the scalar references against a plain
 * dequantize-then-multiply in double precision, on random shapes with odd K and N tails, several
 * rows (the 4-row register tiles and their remainders) and a 3-thread pool.
 */
class QuantizedLinearTest {
  private static final KernelPool POOL = new KernelPool(3);
  private static final int[] KS = {1, 7, 31, 33, 64, 100, 130, 384};
  private static final int[] NS = {1, 5, 17, 64};
  private static final int[] MS = {1, 3, 4, 9};

  @AfterAll
  static void report() {
    System.out.println("[kernels] vector: " + VectorSupport.reason());
  }

  @Test
  void theVectorKernelsRunInTheTestJvm() {
    // surefire starts the JVM with --add-modules jdk.incubator.vector (parent pom), so every
    // comparison below exercises the Vector API path, not the scalar one twice.
    assertThat(VectorSupport.available()).as(VectorSupport.reason()).isTrue();
  }

  private static float[] randn(Random rnd, int len) {
    float[] a = new float[len];
    for (int i = 0; i < len; i++) {
      a[i] = (float) rnd.nextGaussian();
    }
    return a;
  }

  /** Checks max |a-b| <= tol * (1 + max|b|). */
  private static void close(String label, float[] a, double[] b, double tol) {
    double worst = 0;
    double scale = 0;
    for (int i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
      assertThat(Float.isFinite(a[i])).as(label + " finite at " + i).isTrue();
    }
    assertThat(worst)
        .as(label + " max|diff| (max|ref| " + scale + ")")
        .isLessThanOrEqualTo(tol * (1 + scale));
  }

  private static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }

  private static double[] matmul(float[] x, int m, int k, double[] w, int n) {
    double[] y = new double[m * n];
    for (int r = 0; r < m; r++) {
      for (int o = 0; o < n; o++) {
        double s = 0;
        for (int i = 0; i < k; i++) {
          s += (double) x[r * k + i] * w[i * n + o];
        }
        y[r * n + o] = s;
      }
    }
    return y;
  }

  private static float[] run(QuantizedLinear l, float[] x, int m, Impl impl) {
    float[] y = new float[m * l.outFeatures()];
    l.multiply(x, m, y, impl, POOL);
    return y;
  }

  @Test
  void int4MatchesScalarAndDequantizedReference() {
    Random rnd = new Random(4);
    int cases = 0;
    for (int block : new int[] {16, 32, 64, 128}) {
      for (boolean asym : new boolean[] {false, true}) {
        for (int k : KS) {
          for (int n : NS) {
            int m = MS[rnd.nextInt(MS.length)];
            int blocks = (k + block - 1) / block;
            byte[] b = new byte[n * blocks * block / 2];
            rnd.nextBytes(b);
            float[] scales = new float[n * blocks];
            for (int i = 0; i < scales.length; i++) {
              scales[i] = 0.01f + rnd.nextFloat() * 0.1f;
            }
            int zpRow = (blocks + 1) / 2;
            byte[] zp = null;
            if (asym) {
              zp = new byte[n * zpRow];
              rnd.nextBytes(zp);
            }
            Int4Linear l = Int4Linear.fromMatMulNBits(b, scales, zp, k, n, block);
            // Plain dequantization of the ONNX layout: W[k][n].
            double[] w = new double[k * n];
            for (int o = 0; o < n; o++) {
              for (int i = 0; i < k; i++) {
                int blk = i / block;
                int j = i % block;
                int code = (b[(o * blocks + blk) * (block / 2) + j / 2] >> ((j % 2) * 4)) & 15;
                int z = zp == null ? 8 : (zp[o * zpRow + blk / 2] >> ((blk % 2) * 4)) & 15;
                w[i * n + o] = (double) scales[o * blocks + blk] * (code - z);
              }
            }
            float[] x = randn(rnd, m * k);
            String label =
                "int4 b" + block + (asym ? " asym" : " sym") + " K" + k + " N" + n + " M" + m;
            float[] ys = run(l, x, m, Impl.SCALAR);
            close(label + " scalar vs dequantized", ys, matmul(x, m, k, w, n), 1e-5);
            close(label + " vector vs scalar", run(l, x, m, Impl.VECTOR), toDouble(ys), 2e-6);
            cases++;
          }
        }
      }
    }
    assertThat(cases).isEqualTo(4 * 2 * KS.length * NS.length);
  }

  /**
   * Int8-activation mode: the scalar kernel against an independent double-precision product of the
   * per-block quantized activations and the dequantized weight (tight), the vector kernel against
   * the scalar one (tight), and both against the float reference (the documented error: over all
   * cases, the RMS of the difference at most 1% of the RMS of the outputs). Blocks of 1024 exercise
   * the widening every 512 inputs, blocks of 16 fall back to the float path.
   */
  @Test
  void int4WithInt8ActivationsMatchesScalarAndStaysCloseToFloat() {
    Random rnd = new Random(44);
    int cases = 0;
    double num = 0;
    double den = 0;
    int[] ks = {1, 31, 33, 100, 130, 384, 2100};
    for (int block : new int[] {16, 32, 64, 128, 1024}) {
      for (boolean asym : new boolean[] {false, true}) {
        for (int k : ks) {
          int n = NS[rnd.nextInt(NS.length)];
          int m = MS[rnd.nextInt(MS.length)];
          int blocks = (k + block - 1) / block;
          byte[] b = new byte[n * blocks * block / 2];
          rnd.nextBytes(b);
          float[] scales = new float[n * blocks];
          for (int i = 0; i < scales.length; i++) {
            scales[i] = 0.01f + rnd.nextFloat() * 0.1f;
          }
          int zpRow = (blocks + 1) / 2;
          byte[] zp = null;
          if (asym) {
            zp = new byte[n * zpRow];
            rnd.nextBytes(zp);
          }
          Int4Linear f = Int4Linear.fromMatMulNBits(b, scales, zp, k, n, block);
          Int4Linear q = f.withInt8Activations(true);
          assertThat(f.int8Activations()).isFalse();
          assertThat(q.int8Activations()).isTrue();
          double[] w = new double[k * n];
          for (int o = 0; o < n; o++) {
            for (int i = 0; i < k; i++) {
              int blk = i / block;
              int j = i % block;
              int code = (b[(o * blocks + blk) * (block / 2) + j / 2] >> ((j % 2) * 4)) & 15;
              int z = zp == null ? 8 : (zp[o * zpRow + blk / 2] >> ((blk % 2) * 4)) & 15;
              w[i * n + o] = (double) scales[o * blocks + blk] * (code - z);
            }
          }
          float[] x = randn(rnd, m * k);
          // X rounded per row and block as the mode does: rint(x * 127/amax) * amax/127.
          float[] xq = new float[x.length];
          for (int r = 0; r < m; r++) {
            for (int blk = 0; blk < blocks; blk++) {
              int i0 = r * k + blk * block;
              int i1 = r * k + Math.min(k, (blk + 1) * block);
              float amax = 0;
              for (int i = i0; i < i1; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
              }
              for (int i = i0; i < i1; i++) {
                xq[i] = (float) (Math.rint(x[i] * (127f / amax)) * (double) (amax / 127f));
              }
            }
          }
          String label =
              "int4-a8 b" + block + (asym ? " asym" : " sym") + " K" + k + " N" + n + " M" + m;
          float[] ys = run(q, x, m, Impl.SCALAR);
          float[] yv = run(q, x, m, Impl.VECTOR);
          double[] ref = matmul(x, m, k, w, n);
          if (block == 16) {
            close(label + " float fallback", yv, toDouble(run(f, x, m, Impl.VECTOR)), 0);
          } else {
            close(label + " scalar vs quantized-X reference", ys, matmul(xq, m, k, w, n), 1e-5);
          }
          close(label + " vector vs scalar", yv, toDouble(ys), 2e-6);
          for (int i = 0; i < ref.length; i++) {
            num += (yv[i] - ref[i]) * (yv[i] - ref[i]);
            den += ref[i] * ref[i];
          }
          close(label + " vs float reference", yv, ref, 0.05);
          close(
              label + " back to float",
              run(q.withInt8Activations(false), x, m, Impl.VECTOR),
              toDouble(run(f, x, m, Impl.VECTOR)),
              0);
          cases++;
        }
      }
    }
    double rel = Math.sqrt(num / den);
    System.out.printf("[kernels] int4 int8-activation mode: relative RMS error %.4f%n", rel);
    assertThat(rel)
        .as("relative RMS error vs float reference, all cases")
        .isLessThanOrEqualTo(0.01);
    assertThat(cases).isEqualTo(5 * 2 * ks.length);
  }

  @Test
  void int4ActivationsPropertyIsValidated() {
    String old = System.getProperty(Int4Linear.ACTIVATIONS_PROPERTY);
    try {
      System.setProperty(Int4Linear.ACTIVATIONS_PROPERTY, "int8");
      assertThat(
              Int4Linear.fromMatMulNBits(new byte[64], new float[2], null, 64, 2, 64)
                  .int8Activations())
          .isTrue();
      System.setProperty(Int4Linear.ACTIVATIONS_PROPERTY, "int3");
      assertThatThrownBy(
              () -> Int4Linear.fromMatMulNBits(new byte[64], new float[2], null, 64, 2, 64))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(Int4Linear.ACTIVATIONS_PROPERTY)
          .hasMessageContaining("int3");
    } finally {
      if (old == null) {
        System.clearProperty(Int4Linear.ACTIVATIONS_PROPERTY);
      } else {
        System.setProperty(Int4Linear.ACTIVATIONS_PROPERTY, old);
      }
    }
    assertThat(
            Int4Linear.fromMatMulNBits(new byte[64], new float[2], null, 64, 2, 64)
                .int8Activations())
        .isFalse();
  }

  private record Int8Case(
      byte[] codes, boolean unsigned, boolean outIn, float[] scale, byte[] zp) {}

  private static double[] dequantize8(Int8Case c, int k, int n) {
    double[] w = new double[k * n];
    for (int i = 0; i < k; i++) {
      for (int o = 0; o < n; o++) {
        int raw = c.codes()[c.outIn() ? o * k + i : i * n + o];
        int code = c.unsigned() ? raw & 0xff : raw;
        int z = 0;
        if (c.zp() != null) {
          int zr = c.zp()[c.zp().length == 1 ? 0 : o];
          z = c.unsigned() ? zr & 0xff : zr;
        }
        w[i * n + o] = (double) c.scale()[c.scale().length == 1 ? 0 : o] * (code - z);
      }
    }
    return w;
  }

  private static List<Int8Case> int8Cases(Random rnd, int k, int n) {
    List<Int8Case> cases = new ArrayList<>();
    for (int variant = 0; variant < 4; variant++) {
      boolean unsigned = variant % 2 == 1;
      boolean outIn = variant >= 2;
      byte[] codes = new byte[k * n];
      rnd.nextBytes(codes);
      boolean perTensor = rnd.nextInt(4) == 0;
      float[] scale = new float[perTensor ? 1 : n];
      for (int i = 0; i < scale.length; i++) {
        scale[i] = 0.001f + rnd.nextFloat() * 0.02f;
      }
      byte[] zp = null;
      if (unsigned || rnd.nextBoolean()) {
        zp = new byte[perTensor ? 1 : n];
        rnd.nextBytes(zp);
        if (!unsigned) {
          for (int i = 0; i < zp.length; i++) {
            zp[i] = (byte) (zp[i] / 8); // a small signed zero point
          }
        }
      }
      cases.add(new Int8Case(codes, unsigned, outIn, scale, zp));
    }
    return cases;
  }

  @Test
  void int8WeightOnlyMatchesScalarAndDequantizedReference() {
    Random rnd = new Random(8);
    for (int k : KS) {
      for (int n : NS) {
        for (Int8Case c : int8Cases(rnd, k, n)) {
          int m = MS[rnd.nextInt(MS.length)];
          Int8Linear l = Int8Linear.of(c.codes(), c.unsigned(), k, n, c.outIn(), c.scale(), c.zp());
          float[] x = randn(rnd, m * k);
          String label =
              "int8 "
                  + (c.unsigned() ? "u8" : "s8")
                  + (c.outIn() ? " [N,K]" : " [K,N]")
                  + (c.zp() == null ? "" : " zp")
                  + " K"
                  + k
                  + " N"
                  + n
                  + " M"
                  + m;
          float[] ys = run(l, x, m, Impl.SCALAR);
          close(
              label + " scalar vs dequantized", ys, matmul(x, m, k, dequantize8(c, k, n), n), 1e-5);
          close(label + " vector vs scalar", run(l, x, m, Impl.VECTOR), toDouble(ys), 2e-6);
        }
      }
    }
  }

  /**
   * The dequantized-panel path (from {@link Panels#MIN_ROWS} rows) on a long K: W8A8 over more than
   * one exact span of 2048 inputs with the largest codes (|x - zx| and |w - zw| = 255) stays equal
   * to the scalar integer product; int8 and int4 (blocks 32 and 128) stay within float rounding of
   * their scalar references, and a row's result matches the single-row (fused) kernel's. The float
   * tolerance is 1e-5 here: the scalar references sum 4100 products one after another.
   */
  @Test
  void panelPathOnLongRowsMatchesTheReferences() {
    Random rnd = new Random(4100);
    int k = 4100;
    int n = 19;
    int m = 6;
    assertThat(m).isGreaterThanOrEqualTo(Panels.MIN_ROWS);
    float[] x = randn(rnd, m * k);
    // W8A8, extreme codes: uint8 weights at 0 and 255 with zero point 0 (=-128 signed), x hitting
    // both ends of uint8 with zero point 0 or 255
    byte[] codes = new byte[k * n];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) (rnd.nextBoolean() ? 255 : 0);
    }
    W8A8Linear w8 = W8A8Linear.of(codes, true, k, n, false, new float[] {0.5f}, new byte[] {0});
    float[] big = new float[m * k];
    for (int i = 0; i < big.length; i++) {
      big[i] = rnd.nextBoolean() ? 1e3f : -1e3f;
    }
    for (int zx : new int[] {0, 255}) {
      float[] ys = new float[m * n];
      float[] yv = new float[m * n];
      w8.multiplyQuantized(big, m, 1f, zx, 0, 255, ys, Impl.SCALAR, POOL);
      w8.multiplyQuantized(big, m, 1f, zx, 0, 255, yv, Impl.VECTOR, POOL);
      assertThat(yv).as("w8a8 panels, zx " + zx).containsExactly(ys);
    }
    byte[] c8 = new byte[k * n];
    rnd.nextBytes(c8);
    float[] s8 = randn(rnd, n);
    Int8Linear i8 = Int8Linear.of(c8, false, k, n, false, s8, null);
    close("int8 panels", run(i8, x, m, Impl.VECTOR), toDouble(run(i8, x, m, Impl.SCALAR)), 1e-5);
    for (int block : new int[] {32, 128}) {
      int blocks = (k + block - 1) / block;
      byte[] b = new byte[n * blocks * block / 2];
      rnd.nextBytes(b);
      float[] sc = new float[n * blocks];
      java.util.Arrays.fill(sc, 0.02f);
      byte[] zp = new byte[n * ((blocks + 1) / 2)];
      rnd.nextBytes(zp);
      Int4Linear i4 = Int4Linear.fromMatMulNBits(b, sc, zp, k, n, block);
      float[] yv = run(i4, x, m, Impl.VECTOR);
      close("int4 b" + block + " panels", yv, toDouble(run(i4, x, m, Impl.SCALAR)), 1e-5);
      float[] row = run(i4, java.util.Arrays.copyOfRange(x, 2 * k, 3 * k), 1, Impl.VECTOR);
      close(
          "int4 b" + block + " row 2: panels vs fused",
          java.util.Arrays.copyOfRange(yv, 2 * n, 3 * n),
          toDouble(row),
          1e-5);
    }
  }

  @Test
  void w8a8IsExactIntegerArithmetic() {
    Random rnd = new Random(88);
    for (int k : KS) {
      for (int n : NS) {
        for (Int8Case c : int8Cases(rnd, k, n)) {
          int m = MS[rnd.nextInt(MS.length)];
          W8A8Linear l = W8A8Linear.of(c.codes(), c.unsigned(), k, n, c.outIn(), c.scale(), c.zp());
          float[] x = randn(rnd, m * k);
          for (boolean signedActs : new boolean[] {false, true}) {
            float sx = 0.02f;
            int zx = signedActs ? 3 : 128;
            int lo = signedActs ? -128 : 0;
            int hi = signedActs ? 127 : 255;
            float[] ys = new float[m * n];
            float[] yv = new float[m * n];
            l.multiplyQuantized(x, m, sx, zx, lo, hi, ys, Impl.SCALAR, POOL);
            l.multiplyQuantized(x, m, sx, zx, lo, hi, yv, Impl.VECTOR, POOL);
            // Reference: integer sum in long, the same single f32 rescale.
            double[] ref = new double[m * n];
            double[] w = dequantize8(c, k, n);
            for (int r = 0; r < m; r++) {
              for (int o = 0; o < n; o++) {
                long dot = 0;
                for (int i = 0; i < k; i++) {
                  int xq = Quantize.quantize(x[r * k + i], sx, zx, lo, hi) - zx;
                  float sw = c.scale()[c.scale().length == 1 ? 0 : o];
                  dot += xq * Math.round(w[i * n + o] / sw);
                }
                float sw = c.scale()[c.scale().length == 1 ? 0 : o];
                ref[r * n + o] = (sx * sw) * (float) dot;
              }
            }
            String label = "w8a8 K" + k + " N" + n + " M" + m + (signedActs ? " s8" : " u8");
            close(label + " scalar vs long reference", ys, ref, 1e-6);
            assertThat(yv).as(label + " vector == scalar").containsExactly(ys);
          }
        }
      }
    }
  }

  @Test
  void dynamicQuantizationFollowsOnnx() {
    // The ONNX operator documentation example: y = [153, 255, 0, 26, 221, 179]
    Quantize.Params p = Quantize.dynamicUint8(new float[] {0, 2, -3, -2.5f, 1.34f, 0.5f});
    assertThat(p.scale()).isEqualTo(0.019607844f);
    assertThat(p.zeroPoint()).isEqualTo(153);
    assertThat(Quantize.quantize(-2.5f, p.scale(), p.zeroPoint(), 0, 255)).isEqualTo(26);
    assertThat(Quantize.quantize(1.34f, p.scale(), p.zeroPoint(), 0, 255)).isEqualTo(221);
    // round half to even
    assertThat(Quantize.quantize(2.5f, 1f, 0, -128, 127)).isEqualTo(2);
    assertThat(Quantize.quantize(-3.5f, 1f, 0, -128, 127)).isEqualTo(-4);
    assertThat(Quantize.quantize(1000f, 1f, 0, -128, 127)).isEqualTo(127);
  }

  @Test
  void badShapesAreRejectedWithTheSizes() {
    assertThatThrownBy(
            () -> Int4Linear.fromMatMulNBits(new byte[10], new float[2], null, 64, 2, 64))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("B has 10 bytes");
    assertThatThrownBy(
            () -> Int4Linear.fromMatMulNBits(new byte[64], new float[2], null, 64, 2, 48))
        .hasMessageContaining("power of two");
    assertThatThrownBy(() -> Int8Linear.of(new byte[6], false, 2, 3, false, new float[2], null))
        .hasMessageContaining("2 scales for N=3");
    Int8Linear l = Int8Linear.of(new byte[6], false, 2, 3, false, new float[] {1}, null);
    assertThatThrownBy(() -> l.multiply(new float[5], 2, new float[6]))
        .hasMessageContaining("m*K = 4");
  }

  /** A JVM without the incubator module: the kernels fall back to scalar and still compute. */
  @Test
  void withoutTheVectorModuleTheScalarKernelsRun() throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElseThrow();
    Process p =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                ScalarFallbackMain.class.getName())
            .redirectErrorStream(true)
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(out)
        .contains("available=false")
        .contains("module jdk.incubator.vector")
        .contains("y=[5.0, 11.0]");
    assertThat(p.exitValue()).as(out).isZero();
  }
}
