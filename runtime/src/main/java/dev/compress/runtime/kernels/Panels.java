package dev.compress.runtime.kernels;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Products with several rows of X (prefill, batches): instead of converting the codes inside every
 * dot product, each task dequantizes a panel of {@value #NB} weight rows into a float scratch
 * buffer once (vectorized, about one instruction per 8 weights) and multiplies every row of X by it
 * with a 4x2 register-tiled float kernel ({@link VectorGemm#panel}). The conversion is then paid
 * once per weight per call instead of once per weight per group of rows, which at M = 16 or 128 is
 * what decides the speed; the panel (at most {@code 16 * Kp} floats, 256 KiB at K = 4096) stays in
 * L2 while X streams past.
 *
 * <p>Used by the Vector API kernels from {@value #MIN_ROWS_DEFAULT} rows of X on (system property
 * {@value #MIN_ROWS_PROPERTY}); fewer rows take the fused single-row kernels, which read the weight
 * once and never write it back.
 */
final class Panels {
  private Panels() {}

  /** Weight rows per panel (even: the register tile takes rows in pairs). */
  static final int NB = 16;

  static final String MIN_ROWS_PROPERTY = "compress.kernels.panelRows";
  static final int MIN_ROWS_DEFAULT = 4;

  /** Rows of X from which the panel kernels are used. */
  static final int MIN_ROWS = Math.max(1, Integer.getInteger(MIN_ROWS_PROPERTY, MIN_ROWS_DEFAULT));

  /** Inputs per exact integer pass: 2048 / 8 products per lane of at most 255 * 255 stay < 2^24. */
  private static final int EXACT_SPAN = 2048;

  private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

  /**
   * Writes weight rows {@code [o0, o1)} dequantized into {@code wt}, row {@code j} at {@code j*kp}.
   */
  @FunctionalInterface
  interface Dequantizer {
    void rows(int o0, int o1, float[] wt);
  }

  private static float[] scratch(int size) {
    float[] s = SCRATCH.get();
    if (s.length < size) {
      s = new float[size];
      SCRATCH.set(s);
    }
    return s;
  }

  /**
   * The body of one panel: weight rows {@code [o0, o0 + valid)} in {@code wt} ({@code nb} rows).
   */
  @FunctionalInterface
  private interface Body {
    void run(int o0, int valid, int nb, float[] wt);
  }

  /** One pool task per panel of {@link #NB} weight rows, dequantized into the thread's scratch. */
  private static void panels(KernelPool pool, int n, int kp, Dequantizer dq, Body body) {
    pool.run(
        (n + NB - 1) / NB,
        t -> {
          int o0 = t * NB;
          int valid = Math.min(NB, n - o0);
          int nb = valid + (valid & 1);
          float[] wt = scratch(nb * kp);
          dq.rows(o0, o0 + valid, wt);
          if (nb != valid) {
            Arrays.fill(wt, valid * kp, nb * kp, 0f);
          }
          body.run(o0, valid, nb, wt);
        });
  }

  /**
   * W's rows {@code [o0, o1)} dequantized by {@code dq} into {@code dst}: row {@code o} at {@code
   * (o - o0) * k}, the padding beyond K dropped. One pool task per panel of {@value #NB} rows, each
   * dequantized into the thread's scratch (L1/L2) and copied out with an absolute bulk put (tasks
   * write disjoint ranges, {@code dst}'s position is not touched).
   */
  static void dequantizeInto(
      KernelPool pool, int o0, int o1, int k, int kp, FloatBuffer dst, Dequantizer dq) {
    int rows = o1 - o0;
    pool.run(
        (rows + NB - 1) / NB,
        t -> {
          int a = o0 + t * NB;
          int b = Math.min(o1, a + NB);
          float[] wt = scratch((b - a) * kp);
          dq.rows(a, b, wt);
          for (int j = 0; j < b - a; j++) {
            dst.put((a - o0 + j) * k, wt, j * kp, k);
          }
        });
  }

  /** {@code y[m, n] = xp[m, kp] · W} where {@code dq} yields W's rows; float sums. */
  static void run(KernelPool pool, int n, int m, int kp, float[] xp, float[] y, Dequantizer dq) {
    panels(
        pool,
        n,
        kp,
        dq,
        (o0, valid, nb, wt) -> VectorGemm.panel(xp, m, kp, wt, nb, valid, 0, kp, y, o0, n, null));
  }

  /**
   * {@code y[r, o] = outScale * colScale[o] * sum_i xp[r, i] * W[i, o]} computed exactly in
   * integers: {@code xp} and W's dequantized rows must hold integers of magnitude at most 255 (W8A8
   * codes minus zero points). Float products of such values are exact, and so are lane sums of 256
   * of them; each span of {@value #EXACT_SPAN} inputs is converted to int and added.
   */
  static void runExact(
      KernelPool pool,
      int n,
      int m,
      int kp,
      float[] xp,
      float[] y,
      Dequantizer dq,
      float outScale,
      float[] colScale) {
    panels(
        pool,
        n,
        kp,
        dq,
        (o0, valid, nb, wt) -> {
          int[] isum = new int[m * nb];
          for (int k0 = 0; k0 < kp; k0 += EXACT_SPAN) {
            VectorGemm.panel(
                xp, m, kp, wt, nb, valid, k0, Math.min(kp, k0 + EXACT_SPAN), y, o0, n, isum);
          }
          for (int r = 0; r < m; r++) {
            for (int j = 0; j < valid; j++) {
              y[r * n + o0 + j] = (outScale * colScale[o0 + j]) * (float) isum[r * nb + j];
            }
          }
        });
  }
}
