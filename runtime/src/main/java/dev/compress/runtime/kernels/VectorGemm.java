package dev.compress.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API ({@code jdk.incubator.vector}) kernels, 8 lanes of 256 bits (AVX2). Only loaded
 * after {@link VectorSupport} found the module. Codes are converted in registers: a 4-bit or 8-bit
 * slot is sign-extended by a left and an arithmetic right shift and converted to float. Each output
 * accumulates in several independent vector registers and is reduced across lanes once.
 */
final class VectorGemm {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
  private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;

  // Lane swaps for a reduction in a fixed order: reduceLanes(ADD) on floats may associate
  // differently when interpreted and when compiled, which would make results depend on JIT state.
  private static final VectorShuffle<Float> SWAP4 = VectorShuffle.fromOp(F, i -> i ^ 4);
  private static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromOp(F, i -> i ^ 2);
  private static final VectorShuffle<Float> SWAP1 = VectorShuffle.fromOp(F, i -> i ^ 1);
  // Lane masks for combining several reductions into one vector.
  private static final VectorMask<Float> HI4 = VectorMask.fromLong(F, 0xF0);
  private static final VectorMask<Float> ODD2 = VectorMask.fromLong(F, 0xCC);
  private static final VectorMask<Float> ODD1 = VectorMask.fromLong(F, 0xAA);

  private VectorGemm() {}

  // Helpers stay under HotSpot's MaxInlineSize (35 bytecodes): a Vector API value that crosses a
  // call which is not inlined is boxed, which costs more than the arithmetic. Size is not enough:
  // C2 also stops inlining once the method it compiles has too many IR nodes (the Vector API
  // expands to many before intrinsification), or when the helper was already compiled on its own,
  // so the hottest kernels write their reductions and sign extensions out with Vector API calls
  // (which are force-inlined). Check with -XX:-TieredCompilation -XX:+PrintInlining: no helper
  // of this class may show "failed to inline" on a path that runs.

  /** The sum of the lanes, always in the same order. */
  private static float sum(FloatVector v) {
    return fold(fold(fold(v, SWAP4), SWAP2), SWAP1).lane(0);
  }

  private static FloatVector fold(FloatVector v, VectorShuffle<Float> swap) {
    return v.add(v.rearrange(swap));
  }

  private static FloatVector cvt(IntVector v) {
    return (FloatVector) v.convert(VectorOperators.I2F, 0);
  }

  /** The CPU's preferred vector size in bits. */
  static int vectorBits() {
    return FloatVector.SPECIES_PREFERRED.vectorBitSize();
  }

  /** Signed 4-bit slot {@code s < 7} of {@code v} as floats ({@code left = 28 - 4s}). */
  private static FloatVector nib(IntVector v, int left) {
    return cvt(v.lanewise(VectorOperators.LSHL, left).lanewise(VectorOperators.ASHR, 28));
  }

  /** Signed 4-bit slot 7 of {@code v} as floats. */
  private static FloatVector nib7(IntVector v) {
    return cvt(v.lanewise(VectorOperators.ASHR, 28));
  }

  /** Signed 8-bit slot {@code s} of {@code v} as floats. */
  private static FloatVector byt(IntVector v, int s) {
    return cvt(sb(v, s));
  }

  private static FloatVector ld(float[] x, int i) {
    return FloatVector.fromArray(F, x, i);
  }

  // ---------------------------------------------------------------- int4 (MatMulNBits)

  static void int4(Int4Linear w, float[] xp, float[] xsum, int m, int n0, int n1, float[] y) {
    int n = w.n;
    int bpr = w.blocksPerRow;
    int r = 0;
    if (w.blockSize >= 64) {
      int cpb = w.blockSize / 64;
      for (; r + 4 <= m; r += 4) {
        for (int o = n0; o < n1; o++) {
          int4Rows4(w, xp, xsum, r, o, cpb, y);
        }
      }
      for (; r < m; r++) {
        for (int o = n0; o < n1; o++) {
          float d = int4Dot1(w.q, o * w.intsPerRow, w.scale, o * bpr, bpr, cpb, xp, r * w.kp);
          y[r * n + o] = d - correction(w.scaledZero, o * bpr, xsum, r * bpr, bpr);
        }
      }
    } else {
      int spb = w.blockSize / 8; // 2 or 4 slots per block
      for (; r < m; r++) {
        for (int o = n0; o < n1; o++) {
          float d =
              int4DotSmall(w.q, o * w.intsPerRow, w.scale, o * bpr, w.kp / 64, spb, xp, r * w.kp);
          y[r * n + o] = d - correction(w.scaledZero, o * bpr, xsum, r * bpr, bpr);
        }
      }
    }
  }

  /** {@code sum_b scaledZero[b] * xsum[b]}. */
  private static float correction(float[] sz, int so, float[] xsum, int xo, int len) {
    if (sz == null) {
      return 0;
    }
    int b = 0;
    float s = 0;
    if (len >= 8) {
      FloatVector acc = FloatVector.zero(F);
      for (; b + 8 <= len; b += 8) {
        acc = ld(sz, so + b).fma(ld(xsum, xo + b), acc);
      }
      s = sum(acc);
    }
    for (; b < len; b++) {
      s += sz[so + b] * xsum[xo + b];
    }
    return s;
  }

  /**
   * One row of X against one output row; blocks of {@code cpb} 64-input chunks. One flat loop over
   * the chunks (a short inner loop per block ran at half the speed under C2): each chunk's eight
   * products are summed pairwise into four partial vectors, which enter four running totals with
   * the chunk's block scale.
   */
  private static float int4Dot1(
      int[] q, int qo, float[] sc, int so, int bpr, int cpb, float[] x, int xo) {
    FloatVector t0 = FloatVector.zero(F);
    FloatVector t1 = FloatVector.zero(F);
    FloatVector t2 = FloatVector.zero(F);
    FloatVector t3 = FloatVector.zero(F);
    int shift = Integer.numberOfTrailingZeros(cpb);
    int chunks = bpr * cpb;
    for (int c = 0; c < chunks; c++) {
      IntVector v = IntVector.fromArray(I, q, qo + 8 * c);
      int xi = xo + 64 * c;
      FloatVector s = FloatVector.broadcast(F, sc[so + (c >> shift)]);
      t0 = nib(v, 24).fma(ld(x, xi + 8), nib(v, 28).mul(ld(x, xi))).fma(s, t0);
      t1 = nib(v, 16).fma(ld(x, xi + 24), nib(v, 20).mul(ld(x, xi + 16))).fma(s, t1);
      t2 = nib(v, 8).fma(ld(x, xi + 40), nib(v, 12).mul(ld(x, xi + 32))).fma(s, t2);
      t3 = nib7(v).fma(ld(x, xi + 56), nib(v, 4).mul(ld(x, xi + 48))).fma(s, t3);
    }
    // the lane sum written out as in sum(): this method is past C2's node-count cutoff, so a
    // helper taking the vector would not be inlined, and the vector would be boxed per output
    FloatVector h = t0.add(t1).add(t2.add(t3));
    h = h.add(h.rearrange(SWAP4));
    h = h.add(h.rearrange(SWAP2));
    return h.add(h.rearrange(SWAP1)).lane(0);
  }

  /** Blocks of 16 or 32 inputs: {@code spb} slots per block, several blocks per chunk. */
  private static float int4DotSmall(
      int[] q, int qo, float[] sc, int so, int chunks, int spb, float[] x, int xo) {
    FloatVector acc = FloatVector.zero(F);
    int b = so;
    for (int c = 0; c < chunks; c++) {
      IntVector v = IntVector.fromArray(I, q, qo + 8 * c);
      int xi = xo + 64 * c;
      for (int s = 0; s < 8; s += spb) {
        FloatVector a0 = nib(v, 28 - 4 * s).fma(ld(x, xi + 8 * s), FloatVector.zero(F));
        FloatVector a1 = slot(v, s + 1).fma(ld(x, xi + 8 * s + 8), FloatVector.zero(F));
        if (spb == 4) {
          a0 = nib(v, 20 - 4 * s).fma(ld(x, xi + 8 * s + 16), a0);
          a1 = slot(v, s + 3).fma(ld(x, xi + 8 * s + 24), a1);
        }
        acc = a0.add(a1).fma(FloatVector.broadcast(F, sc[b++]), acc);
      }
    }
    return sum(acc);
  }

  /** 4-bit slot {@code s} (any) of {@code v}. */
  private static FloatVector slot(IntVector v, int s) {
    return s == 7 ? nib7(v) : nib(v, 28 - 4 * s);
  }

  /** Four rows of X against one output row: each decoded slot feeds four accumulations. */
  private static void int4Rows4(
      Int4Linear w, float[] xp, float[] xsum, int r, int o, int cpb, float[] y) {
    int[] q = w.q;
    int kp = w.kp;
    int bpr = w.blocksPerRow;
    int so = o * bpr;
    int ci = o * w.intsPerRow;
    int x0 = r * kp;
    int x1 = x0 + kp;
    int x2 = x1 + kp;
    int x3 = x2 + kp;
    FloatVector t0 = FloatVector.zero(F);
    FloatVector t1 = FloatVector.zero(F);
    FloatVector t2 = FloatVector.zero(F);
    FloatVector t3 = FloatVector.zero(F);
    int xi = 0;
    for (int b = 0; b < bpr; b++) {
      FloatVector p0 = FloatVector.zero(F);
      FloatVector p1 = FloatVector.zero(F);
      FloatVector p2 = FloatVector.zero(F);
      FloatVector p3 = FloatVector.zero(F);
      FloatVector q0 = FloatVector.zero(F);
      FloatVector q1 = FloatVector.zero(F);
      FloatVector q2 = FloatVector.zero(F);
      FloatVector q3 = FloatVector.zero(F);
      for (int c = 0; c < cpb; c++, ci += 8, xi += 64) {
        IntVector v = IntVector.fromArray(I, q, ci);
        // A loop, not unrolled by hand: C2 stops inlining Vector API calls past a size budget,
        // and a vector that crosses a call that was not inlined is boxed.
        for (int sp = 0; sp < 4; sp++) {
          int e = xi + 16 * sp;
          FloatVector we = nib(v, 28 - 8 * sp);
          p0 = we.fma(ld(xp, x0 + e), p0);
          p1 = we.fma(ld(xp, x1 + e), p1);
          p2 = we.fma(ld(xp, x2 + e), p2);
          p3 = we.fma(ld(xp, x3 + e), p3);
          FloatVector wo = sp == 3 ? nib7(v) : nib(v, 24 - 8 * sp);
          q0 = wo.fma(ld(xp, x0 + e + 8), q0);
          q1 = wo.fma(ld(xp, x1 + e + 8), q1);
          q2 = wo.fma(ld(xp, x2 + e + 8), q2);
          q3 = wo.fma(ld(xp, x3 + e + 8), q3);
        }
      }
      FloatVector s = FloatVector.broadcast(F, w.scale[so + b]);
      t0 = p0.add(q0).fma(s, t0);
      t1 = p1.add(q1).fma(s, t1);
      t2 = p2.add(q2).fma(s, t2);
      t3 = p3.add(q3).fma(s, t3);
    }
    int n = w.n;
    y[r * n + o] = sum(t0) - correction(w.scaledZero, so, xsum, r * bpr, bpr);
    y[(r + 1) * n + o] = sum(t1) - correction(w.scaledZero, so, xsum, (r + 1) * bpr, bpr);
    y[(r + 2) * n + o] = sum(t2) - correction(w.scaledZero, so, xsum, (r + 2) * bpr, bpr);
    y[(r + 3) * n + o] = sum(t3) - correction(w.scaledZero, so, xsum, (r + 3) * bpr, bpr);
  }

  // ---------------------------------------------------------------- int4 x int8 activations

  /** The 8 ints at {@code q[i]} as the 16 shorts of {@link Int4Linear#q16} (4 nibbles each). */
  private static ShortVector shorts(short[] q, int i) {
    return ShortVector.fromArray(S, q, 2 * i);
  }

  /** Signed 4-bit slot {@code j < 3} of each short ({@code left = 12 - 4j}). */
  private static ShortVector nib16(ShortVector v, int left) {
    return v.lanewise(VectorOperators.LSHL, left).lanewise(VectorOperators.ASHR, 12);
  }

  private static ShortVector top16(ShortVector v) {
    return v.lanewise(VectorOperators.ASHR, 12);
  }

  private static ShortVector ld16(short[] x, int i) {
    return ShortVector.fromArray(S, x, i);
  }

  /** The 16 short lanes of {@code a} summed pairwise into 8 int lanes, as floats. */
  private static FloatVector pairs(ShortVector a) {
    IntVector v = a.reinterpretAsInts();
    return cvt(
        v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(top(v, 16)));
  }

  private static IntVector top(IntVector v, int bits) {
    return v.lanewise(VectorOperators.ASHR, bits);
  }

  /**
   * Int4 weights times activations quantized per block to int8 ({@code xq} laid out by {@link
   * Int4Linear#xPos}, {@code xs} their scales per row and block). Products are summed exactly in
   * 16-bit lanes for at most 8 chunks of 64 inputs (32 products of at most {@code 127*8} per lane),
   * then widened, converted and scaled.
   */
  static void int4q(
      Int4Linear w, short[] xq, float[] xs, float[] xsum, int m, int n0, int n1, float[] y) {
    int n = w.n;
    int bpr = w.blocksPerRow;
    int r = 0;
    if (w.blockSize >= 64 && w.blockSize <= 512) {
      int cpb = w.blockSize / 64;
      for (; r + 2 <= m; r += 2) {
        for (int o = n0; o < n1; o++) {
          int4qRows2(w, xq, xs, xsum, r, o, cpb, y);
        }
      }
    }
    for (; r < m; r++) {
      for (int o = n0; o < n1; o++) {
        int so = o * bpr;
        float d =
            w.blockSize >= 64
                ? int4qDot1(
                    w.q16,
                    o * w.intsPerRow,
                    w.scale,
                    so,
                    bpr,
                    w.blockSize / 64,
                    xq,
                    r * w.kp,
                    xs,
                    r * bpr)
                : int4qDot32(
                    w.q16, o * w.intsPerRow, w.scale, so, w.kp / 64, xq, r * w.kp, xs, r * bpr);
        y[r * n + o] = d - correction(w.scaledZero, so, xsum, r * bpr, bpr);
      }
    }
  }

  /**
   * One flat loop over the chunks (see {@link #int4Dot1}): each chunk's 64 products are summed in
   * 16-bit lanes (4 per lane, at most {@code 4 * 127 * 8}: exact), widened, converted and added
   * with the chunk's {@code x_scale * w_scale}.
   */
  private static float int4qDot1(
      short[] q,
      int qo,
      float[] sc,
      int so,
      int bpr,
      int cpb,
      short[] x,
      int xo,
      float[] xs,
      int xso) {
    FloatVector t = FloatVector.zero(F);
    int shift = Integer.numberOfTrailingZeros(cpb);
    int chunks = bpr * cpb;
    if (cpb >= 2) {
      // two chunks of one block per step (8 products per lane, at most 8128): one widening. The
      // products are written out here, not in a helper: one C2 might not inline boxes vectors.
      for (int c = 0; c < chunks; c += 2) {
        ShortVector v = shorts(q, qo + 8 * c);
        ShortVector u = shorts(q, qo + 8 * c + 8);
        int xi = xo + 64 * c;
        ShortVector a0 = nib16(v, 12).mul(ld16(x, xi)).add(nib16(v, 8).mul(ld16(x, xi + 16)));
        ShortVector a1 = nib16(v, 4).mul(ld16(x, xi + 32)).add(top16(v).mul(ld16(x, xi + 48)));
        a0 = a0.add(nib16(u, 12).mul(ld16(x, xi + 64))).add(nib16(u, 8).mul(ld16(x, xi + 80)));
        a1 = a1.add(nib16(u, 4).mul(ld16(x, xi + 96))).add(top16(u).mul(ld16(x, xi + 112)));
        int b = c >> shift;
        t = pairs(a0.add(a1)).fma(FloatVector.broadcast(F, sc[so + b] * xs[xso + b]), t);
      }
    } else {
      for (int c = 0; c < chunks; c++) {
        ShortVector v = shorts(q, qo + 8 * c);
        int xi = xo + 64 * c;
        ShortVector a0 = nib16(v, 12).mul(ld16(x, xi)).add(nib16(v, 8).mul(ld16(x, xi + 16)));
        ShortVector a1 = nib16(v, 4).mul(ld16(x, xi + 32)).add(top16(v).mul(ld16(x, xi + 48)));
        t = pairs(a0.add(a1)).fma(FloatVector.broadcast(F, sc[so + c] * xs[xso + c]), t);
      }
    }
    // the lane sum written out as in sum(): this method is past C2's node-count cutoff, so a
    // helper taking the vector would not be inlined, and the vector would be boxed per output
    FloatVector h = t;
    h = h.add(h.rearrange(SWAP4));
    h = h.add(h.rearrange(SWAP2));
    return h.add(h.rearrange(SWAP1)).lane(0);
  }

  /**
   * Blocks of 32: the even short lanes of a chunk are block {@code 2c}, the odd ones {@code 2c+1}.
   */
  private static float int4qDot32(
      short[] q, int qo, float[] sc, int so, int chunks, short[] x, int xo, float[] xs, int xso) {
    FloatVector t0 = FloatVector.zero(F);
    FloatVector t1 = FloatVector.zero(F);
    for (int c = 0; c < chunks; c++) {
      ShortVector v = shorts(q, qo + 8 * c);
      int xi = xo + 64 * c;
      ShortVector a0 = nib16(v, 12).mul(ld16(x, xi));
      ShortVector a1 = nib16(v, 8).mul(ld16(x, xi + 16));
      a0 = a0.add(nib16(v, 4).mul(ld16(x, xi + 32)));
      a1 = a1.add(top16(v).mul(ld16(x, xi + 48)));
      IntVector a = a0.add(a1).reinterpretAsInts();
      int b = 2 * c;
      t0 =
          cvt(a.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
              .fma(FloatVector.broadcast(F, sc[so + b] * xs[xso + b]), t0);
      t1 = cvt(top(a, 16)).fma(FloatVector.broadcast(F, sc[so + b + 1] * xs[xso + b + 1]), t1);
    }
    return sum(t0.add(t1));
  }

  /** Two rows of X against one output row (blocks of 64 to 512): each decoded slot feeds both. */
  private static void int4qRows2(
      Int4Linear w, short[] xq, float[] xs, float[] xsum, int r, int o, int cpb, float[] y) {
    short[] q = w.q16;
    int kp = w.kp;
    int bpr = w.blocksPerRow;
    int so = o * bpr;
    int s0 = r * bpr;
    int ci = o * w.intsPerRow;
    int xi = r * kp;
    FloatVector t0 = FloatVector.zero(F);
    FloatVector t1 = FloatVector.zero(F);
    for (int b = 0; b < bpr; b++) {
      ShortVector a0 = ShortVector.zero(S);
      ShortVector a1 = ShortVector.zero(S);
      for (int c = 0; c < cpb; c++, ci += 8, xi += 64) {
        ShortVector v = shorts(q, ci);
        ShortVector w0 = nib16(v, 12);
        a0 = a0.add(w0.mul(ld16(xq, xi)));
        a1 = a1.add(w0.mul(ld16(xq, xi + kp)));
        ShortVector w1 = nib16(v, 8);
        a0 = a0.add(w1.mul(ld16(xq, xi + 16)));
        a1 = a1.add(w1.mul(ld16(xq, xi + 16 + kp)));
        ShortVector w2 = nib16(v, 4);
        a0 = a0.add(w2.mul(ld16(xq, xi + 32)));
        a1 = a1.add(w2.mul(ld16(xq, xi + 32 + kp)));
        ShortVector w3 = top16(v);
        a0 = a0.add(w3.mul(ld16(xq, xi + 48)));
        a1 = a1.add(w3.mul(ld16(xq, xi + 48 + kp)));
      }
      float ws = w.scale[so + b];
      t0 = pairs(a0).fma(FloatVector.broadcast(F, ws * xs[s0 + b]), t0);
      t1 = pairs(a1).fma(FloatVector.broadcast(F, ws * xs[s0 + bpr + b]), t1);
    }
    int n = w.n;
    // both lane sums in one vector, in sum()'s order (see rows4cols2): lane 0 t0, lane 4 t1
    FloatVector u = t0.add(t0.rearrange(SWAP4)).blend(t1.add(t1.rearrange(SWAP4)), HI4);
    u = u.add(u.rearrange(SWAP2));
    u = u.add(u.rearrange(SWAP1));
    y[r * n + o] = u.lane(0) - correction(w.scaledZero, so, xsum, s0, bpr);
    y[(r + 1) * n + o] = u.lane(4) - correction(w.scaledZero, so, xsum, s0 + bpr, bpr);
  }

  // ---------------------------------------------------------------- int8 weight-only

  static void int8(Int8Linear w, float[] xp, float[] xsum, int m, int n0, int n1, float[] y) {
    int n = w.n;
    int chunks = w.kp / 32;
    int r = 0;
    for (; r + 4 <= m; r += 4) {
      for (int o = n0; o < n1; o++) {
        int8Rows4(w, xp, xsum, r, o, chunks, y);
      }
    }
    for (; r < m; r++) {
      for (int o = n0; o < n1; o++) {
        int ci = o * w.intsPerRow;
        int xi = r * w.kp;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        for (int c = 0; c < chunks; c += 2, ci += 16, xi += 64) { // chunks is even
          IntVector v = IntVector.fromArray(I, w.q, ci);
          IntVector u = IntVector.fromArray(I, w.q, ci + 8);
          a0 = byt(v, 0).fma(ld(xp, xi), a0);
          a1 = byt(v, 1).fma(ld(xp, xi + 8), a1);
          a2 = byt(v, 2).fma(ld(xp, xi + 16), a2);
          a3 = byt(v, 3).fma(ld(xp, xi + 24), a3);
          a4 = byt(u, 0).fma(ld(xp, xi + 32), a4);
          a5 = byt(u, 1).fma(ld(xp, xi + 40), a5);
          a6 = byt(u, 2).fma(ld(xp, xi + 48), a6);
          a7 = byt(u, 3).fma(ld(xp, xi + 56), a7);
        }
        // the lane sum written out as in sum(): this method is past C2's node-count cutoff, so a
        // helper taking the vector would not be inlined, and the vector would be boxed per output
        FloatVector h = a0.add(a4).add(a1.add(a5)).add(a2.add(a6).add(a3.add(a7)));
        h = h.add(h.rearrange(SWAP4));
        h = h.add(h.rearrange(SWAP2));
        float dot = h.add(h.rearrange(SWAP1)).lane(0);
        y[r * n + o] = w.scale[o] * (dot - w.zero[o] * xsum[r]);
      }
    }
  }

  private static void int8Rows4(
      Int8Linear w, float[] xp, float[] xsum, int r, int o, int chunks, float[] y) {
    int kp = w.kp;
    int x0 = r * kp;
    int x1 = x0 + kp;
    int x2 = x1 + kp;
    int x3 = x2 + kp;
    FloatVector p0 = FloatVector.zero(F);
    FloatVector p1 = FloatVector.zero(F);
    FloatVector p2 = FloatVector.zero(F);
    FloatVector p3 = FloatVector.zero(F);
    FloatVector q0 = FloatVector.zero(F);
    FloatVector q1 = FloatVector.zero(F);
    FloatVector q2 = FloatVector.zero(F);
    FloatVector q3 = FloatVector.zero(F);
    int ci = o * w.intsPerRow;
    for (int c = 0, xi = 0; c < chunks; c++, ci += 8, xi += 32) {
      IntVector v = IntVector.fromArray(I, w.q, ci);
      for (int s = 0; s < 4; s += 2) {
        int e = xi + 8 * s;
        FloatVector we = byt(v, s);
        p0 = we.fma(ld(xp, x0 + e), p0);
        p1 = we.fma(ld(xp, x1 + e), p1);
        p2 = we.fma(ld(xp, x2 + e), p2);
        p3 = we.fma(ld(xp, x3 + e), p3);
        FloatVector wo = byt(v, s + 1);
        q0 = wo.fma(ld(xp, x0 + e + 8), q0);
        q1 = wo.fma(ld(xp, x1 + e + 8), q1);
        q2 = wo.fma(ld(xp, x2 + e + 8), q2);
        q3 = wo.fma(ld(xp, x3 + e + 8), q3);
      }
    }
    int n = w.n;
    float s = w.scale[o];
    float z = w.zero[o];
    y[r * n + o] = s * (sum(p0.add(q0)) - z * xsum[r]);
    y[(r + 1) * n + o] = s * (sum(p1.add(q1)) - z * xsum[r + 1]);
    y[(r + 2) * n + o] = s * (sum(p2.add(q2)) - z * xsum[r + 2]);
    y[(r + 3) * n + o] = s * (sum(p3.add(q3)) - z * xsum[r + 3]);
  }

  // ---------------------------------------------------------------- panels (several rows of X)

  /**
   * Int4 weight rows {@code [o0, o1)} dequantized into {@code wt} (row {@code j} at {@code j * kp},
   * inputs in natural order): {@code scale * (q - 8) - scale * (zero - 8)} per block.
   */
  static void dequantize(Int4Linear w, int o0, int o1, float[] wt) {
    int kp = w.kp;
    int bpr = w.blocksPerRow;
    int shift = Integer.numberOfTrailingZeros(w.blockSize);
    for (int o = o0; o < o1; o++) {
      int ci = o * w.intsPerRow;
      int so = o * bpr;
      int d = (o - o0) * kp;
      for (int c = 0; c < kp; c += 64, ci += 8) {
        IntVector v =
            w.q != null ? IntVector.fromArray(I, w.q, ci) : shorts(w.q16, ci).reinterpretAsInts();
        for (int sl = 0; sl < 8; sl++) {
          int b = so + ((c + 8 * sl) >> shift);
          FloatVector sc = FloatVector.broadcast(F, w.scale[b]);
          FloatVector z = FloatVector.broadcast(F, w.scaledZero == null ? 0f : -w.scaledZero[b]);
          slot(v, sl).fma(sc, z).intoArray(wt, d + c + 8 * sl);
        }
      }
    }
  }

  /**
   * Int8 weight rows {@code [o0, o1)} into {@code wt}: {@code scale * (q - zero)}, or with {@code
   * scaled = false} just {@code q - zero} (exact small integers, for W8A8).
   */
  static void dequantize(
      int[] q, int ipr, int kp, float[] scale, float[] zero, int o0, int o1, float[] wt) {
    for (int o = o0; o < o1; o++) {
      int ci = o * ipr;
      int d = (o - o0) * kp;
      FloatVector sc = FloatVector.broadcast(F, scale == null ? 1f : scale[o]);
      FloatVector z = FloatVector.broadcast(F, -zero[o] * (scale == null ? 1f : scale[o]));
      for (int c = 0; c < kp; c += 32, ci += 8) {
        IntVector v = IntVector.fromArray(I, q, ci);
        byt(v, 0).fma(sc, z).intoArray(wt, d + c);
        byt(v, 1).fma(sc, z).intoArray(wt, d + c + 8);
        byt(v, 2).fma(sc, z).intoArray(wt, d + c + 16);
        byt(v, 3).fma(sc, z).intoArray(wt, d + c + 24);
      }
    }
  }

  /**
   * {@code X[m, kp] · Wt[nb, kp]^T} over inputs {@code [k0, k1)} for the {@code valid <= nb} panel
   * rows that exist ({@code nb} even; a missing last row must be zeros in {@code wt}). Float mode
   * ({@code isum == null}) writes the sums to {@code y[r * ldy + yo + j]}; integer mode adds each
   * sum, converted exactly, to {@code isum[r * nb + j]} (its products and lane sums are integers
   * below 2^24 when the caller keeps {@code k1 - k0 <= 2048} and values below 256 in magnitude).
   * Register tile: 4 rows of X by 2 weight rows, 8 accumulators.
   */
  static void panel(
      float[] xp,
      int m,
      int kp,
      float[] wt,
      int nb,
      int valid,
      int k0,
      int k1,
      float[] y,
      int yo,
      int ldy,
      int[] isum) {
    int r = 0;
    for (; r + 4 <= m; r += 4) {
      for (int j = 0; j < nb; j += 2) {
        rows4cols2(xp, r, kp, wt, j, nb, valid, k0, k1, y, yo, ldy, isum);
      }
    }
    for (; r < m; r++) {
      for (int j = 0; j < nb; j += 2) {
        rows1cols2(xp, r, kp, wt, j, nb, valid, k0, k1, y, yo, ldy, isum);
      }
    }
  }

  private static void rows4cols2(
      float[] xp,
      int r,
      int kp,
      float[] wt,
      int j,
      int nb,
      int valid,
      int k0,
      int k1,
      float[] y,
      int yo,
      int ldy,
      int[] isum) {
    int x0 = r * kp;
    int x1 = x0 + kp;
    int x2 = x1 + kp;
    int x3 = x2 + kp;
    int w0 = j * kp;
    int w1 = w0 + kp;
    FloatVector a0 = FloatVector.zero(F);
    FloatVector a1 = FloatVector.zero(F);
    FloatVector a2 = FloatVector.zero(F);
    FloatVector a3 = FloatVector.zero(F);
    FloatVector b0 = FloatVector.zero(F);
    FloatVector b1 = FloatVector.zero(F);
    FloatVector b2 = FloatVector.zero(F);
    FloatVector b3 = FloatVector.zero(F);
    for (int i = k0; i < k1; i += 8) {
      FloatVector u = ld(wt, w0 + i);
      FloatVector v = ld(wt, w1 + i);
      FloatVector x = ld(xp, x0 + i);
      a0 = u.fma(x, a0);
      b0 = v.fma(x, b0);
      x = ld(xp, x1 + i);
      a1 = u.fma(x, a1);
      b1 = v.fma(x, b1);
      x = ld(xp, x2 + i);
      a2 = u.fma(x, a2);
      b2 = v.fma(x, b2);
      x = ld(xp, x3 + i);
      a3 = u.fma(x, a3);
      b3 = v.fma(x, b3);
    }
    // reduced here, not in a helper taking vectors: a call C2 does not inline boxes them
    if (isum != null) {
      int e = r * nb + j;
      isum[e] += isum(a0);
      isum[e + 1] += isum(b0);
      isum[e + nb] += isum(a1);
      isum[e + nb + 1] += isum(b1);
      isum[e + 2 * nb] += isum(a2);
      isum[e + 2 * nb + 1] += isum(b2);
      isum[e + 3 * nb] += isum(a3);
      isum[e + 3 * nb + 1] += isum(b3);
    } else {
      // The 8 lane sums in one vector, each in sum()'s order (the blends only move lanes; a
      // partial sum may come out as (u + v) where sum() has (v + u), which is the same float).
      // Written out: this method is past C2's node-count cutoff, and sum() calls were left out of
      // line here, boxing their vectors. Lanes: 0 a0, 1 a2, 2 a1, 3 a3, 4 b0, 5 b2, 6 b1, 7 b3.
      FloatVector s0 = a0.add(a0.rearrange(SWAP4)).blend(b0.add(b0.rearrange(SWAP4)), HI4);
      FloatVector s1 = a1.add(a1.rearrange(SWAP4)).blend(b1.add(b1.rearrange(SWAP4)), HI4);
      FloatVector s2 = a2.add(a2.rearrange(SWAP4)).blend(b2.add(b2.rearrange(SWAP4)), HI4);
      FloatVector s3 = a3.add(a3.rearrange(SWAP4)).blend(b3.add(b3.rearrange(SWAP4)), HI4);
      s0 = s0.add(s0.rearrange(SWAP2)).blend(s1.add(s1.rearrange(SWAP2)), ODD2);
      s2 = s2.add(s2.rearrange(SWAP2)).blend(s3.add(s3.rearrange(SWAP2)), ODD2);
      s0 = s0.add(s0.rearrange(SWAP1)).blend(s2.add(s2.rearrange(SWAP1)), ODD1);
      int e = r * ldy + yo + j;
      y[e] = s0.lane(0);
      y[e + ldy] = s0.lane(2);
      y[e + 2 * ldy] = s0.lane(1);
      y[e + 3 * ldy] = s0.lane(3);
      if (j + 1 < valid) {
        y[e + 1] = s0.lane(4);
        y[e + ldy + 1] = s0.lane(6);
        y[e + 2 * ldy + 1] = s0.lane(5);
        y[e + 3 * ldy + 1] = s0.lane(7);
      }
    }
  }

  private static void store(float[] y, int e, float a, float b, boolean both) {
    y[e] = a;
    if (both) {
      y[e + 1] = b;
    }
  }

  private static void rows1cols2(
      float[] xp,
      int r,
      int kp,
      float[] wt,
      int j,
      int nb,
      int valid,
      int k0,
      int k1,
      float[] y,
      int yo,
      int ldy,
      int[] isum) {
    int x0 = r * kp;
    int w0 = j * kp;
    int w1 = w0 + kp;
    FloatVector a0 = FloatVector.zero(F);
    FloatVector b0 = FloatVector.zero(F);
    for (int i = k0; i < k1; i += 8) {
      FloatVector x = ld(xp, x0 + i);
      a0 = ld(wt, w0 + i).fma(x, a0);
      b0 = ld(wt, w1 + i).fma(x, b0);
    }
    if (isum != null) {
      isum[r * nb + j] += isum(a0);
      isum[r * nb + j + 1] += isum(b0);
    } else {
      store(y, r * ldy + yo + j, sum(a0), sum(b0), j + 1 < valid);
    }
  }

  /** The lanes (integers below 2^24) converted exactly and summed as ints. */
  private static int isum(FloatVector v) {
    return ((IntVector) v.convert(VectorOperators.F2I, 0)).reduceLanes(VectorOperators.ADD);
  }

  // ---------------------------------------------------------------- W8A8

  /** Signed 8-bit slot {@code s} of {@code v}, sign-extended to int32. */
  private static IntVector sb(IntVector v, int s) {
    return s == 3 ? top(v) : top(v.lanewise(VectorOperators.LSHL, 24 - 8 * s));
  }

  private static IntVector top(IntVector v) {
    return v.lanewise(VectorOperators.ASHR, 24);
  }

  static void w8a8(W8A8Linear w, int[] xq, int[] xsum, int m, float sx, int n0, int n1, float[] y) {
    int n = w.n;
    int chunks = w.kp / 32;
    int r = 0;
    for (; r + 2 <= m; r += 2) {
      for (int o = n0; o < n1; o++) {
        int ci = o * w.intsPerRow;
        int x0 = r * w.kp;
        int x1 = x0 + w.kp;
        IntVector p0 = IntVector.zero(I);
        IntVector q0 = IntVector.zero(I);
        IntVector p1 = IntVector.zero(I);
        IntVector q1 = IntVector.zero(I);
        for (int c = 0, xi = 0; c < chunks; c++, ci += 8, xi += 32) {
          IntVector v = IntVector.fromArray(I, w.q, ci);
          for (int s = 0; s < 4; s += 2) {
            int e = xi + 8 * s;
            // sb() written out: C2 left it out of line here ("already compiled into a medium
            // method"), boxing its vector in the inner loop
            IntVector we =
                v.lanewise(VectorOperators.LSHL, 24 - 8 * s).lanewise(VectorOperators.ASHR, 24);
            p0 = p0.add(we.mul(IntVector.fromArray(I, xq, x0 + e)));
            p1 = p1.add(we.mul(IntVector.fromArray(I, xq, x1 + e)));
            IntVector wo =
                v.lanewise(VectorOperators.LSHL, 16 - 8 * s).lanewise(VectorOperators.ASHR, 24);
            q0 = q0.add(wo.mul(IntVector.fromArray(I, xq, x0 + e + 8)));
            q1 = q1.add(wo.mul(IntVector.fromArray(I, xq, x1 + e + 8)));
          }
        }
        float s = sx * w.scale[o];
        int z = w.zero[o];
        y[r * n + o] = s * (p0.add(q0).reduceLanes(VectorOperators.ADD) - z * xsum[r]);
        y[(r + 1) * n + o] = s * (p1.add(q1).reduceLanes(VectorOperators.ADD) - z * xsum[r + 1]);
      }
    }
    for (; r < m; r++) {
      for (int o = n0; o < n1; o++) {
        int ci = o * w.intsPerRow;
        int xi = r * w.kp;
        IntVector a0 = IntVector.zero(I);
        IntVector a1 = IntVector.zero(I);
        IntVector a2 = IntVector.zero(I);
        IntVector a3 = IntVector.zero(I);
        for (int c = 0; c < chunks; c++, ci += 8, xi += 32) {
          IntVector v = IntVector.fromArray(I, w.q, ci);
          // sb() written out, as above
          IntVector b0 = v.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24);
          IntVector b1 = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 24);
          IntVector b2 = v.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24);
          a0 = a0.add(b0.mul(IntVector.fromArray(I, xq, xi)));
          a1 = a1.add(b1.mul(IntVector.fromArray(I, xq, xi + 8)));
          a2 = a2.add(b2.mul(IntVector.fromArray(I, xq, xi + 16)));
          a3 =
              a3.add(v.lanewise(VectorOperators.ASHR, 24).mul(IntVector.fromArray(I, xq, xi + 24)));
        }
        int dot = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        y[r * n + o] = (sx * w.scale[o]) * (dot - w.zero[o] * xsum[r]);
      }
    }
  }
}
