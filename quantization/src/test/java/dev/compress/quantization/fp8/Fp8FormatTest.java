package dev.compress.quantization.fp8;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class Fp8FormatTest {
  /** The finite positive codes in increasing order of value (code order is value order). */
  private static int[] positiveFinite(Fp8Format f) {
    return java.util.stream.IntStream.rangeClosed(0, f.maxCode()).toArray();
  }

  @ParameterizedTest
  @EnumSource(Fp8Format.class)
  void knownValues(Fp8Format f) {
    if (f == Fp8Format.E4M3FN) {
      assertThat(f.decode(0x7e)).isEqualTo(448f);
      assertThat(f.decode(0x7f)).isNaN();
      assertThat(f.decode(0x01)).isEqualTo(0x1p-9f); // smallest subnormal
      assertThat(f.decode(0x08)).isEqualTo(0x1p-6f); // smallest normal
      assertThat(f.decode(0x38)).isEqualTo(1f);
    } else {
      assertThat(f.decode(0x7b)).isEqualTo(57344f);
      assertThat(f.decode(0x7c)).isEqualTo(Float.POSITIVE_INFINITY);
      assertThat(f.decode(0x7d)).isNaN();
      assertThat(f.decode(0x01)).isEqualTo(0x1p-16f);
      assertThat(f.decode(0x04)).isEqualTo(0x1p-14f);
      assertThat(f.decode(0x3c)).isEqualTo(1f);
    }
    assertThat(f.max()).isEqualTo(f.decode(f.maxCode()));
  }

  @ParameterizedTest
  @EnumSource(Fp8Format.class)
  void everyRepresentableValueRoundTrips(Fp8Format f) {
    for (int c = 0; c < 256; c++) {
      float v = f.decode(c);
      if (Float.isFinite(v)) {
        assertThat(f.encode(v) & 0xff).as("code 0x%02x = %s", c, v).isEqualTo(c);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Fp8Format.class)
  void tiesGoToTheEvenCodeAndNeighboursToTheNearest(Fp8Format f) {
    int[] codes = positiveFinite(f);
    for (int i = 0; i + 1 < codes.length; i++) {
      float lo = f.decode(codes[i]);
      float hi = f.decode(codes[i + 1]);
      float mid = (lo + hi) / 2; // exact in f32
      int even = codes[i] % 2 == 0 ? codes[i] : codes[i + 1];
      assertThat(f.encode(mid) & 0xff).as("tie %s between %s and %s", mid, lo, hi).isEqualTo(even);
      assertThat(f.encode(-mid) & 0xff).isEqualTo(even | 0x80);
      assertThat(f.encode(Math.nextDown(mid)) & 0xff).isEqualTo(codes[i]);
      assertThat(f.encode(Math.nextUp(mid)) & 0xff).isEqualTo(codes[i + 1]);
    }
  }

  @ParameterizedTest
  @EnumSource(Fp8Format.class)
  void saturatesAndKeepsNan(Fp8Format f) {
    assertThat(f.encode(f.max() * 1.01f) & 0xff).isEqualTo(f.maxCode());
    assertThat(f.encode(1e30f) & 0xff).isEqualTo(f.maxCode());
    assertThat(f.encode(Float.POSITIVE_INFINITY) & 0xff).isEqualTo(f.maxCode());
    assertThat(f.encode(Float.NEGATIVE_INFINITY) & 0xff).isEqualTo(f.maxCode() | 0x80);
    assertThat(f.decode(f.encode(Float.NaN))).isNaN();
    assertThat(f.encode(-0f) & 0xff).isEqualTo(0x80);
    assertThat(f.encode(1e-30f) & 0xff).isZero(); // underflows to +0
  }

  @ParameterizedTest
  @EnumSource(Fp8Format.class)
  void matchesABruteForceNearestSearch(Fp8Format f) {
    SplittableRandom r = new SplittableRandom(5);
    int[] codes = positiveFinite(f);
    for (int n = 0; n < 20000; n++) {
      float x =
          (float) (Math.scalb(r.nextDouble(), r.nextInt(-20, 18)) * (r.nextBoolean() ? 1 : -1));
      float a = Math.abs(x);
      int best = -1;
      double bestD = Double.POSITIVE_INFINITY;
      for (int c : codes) {
        double d = Math.abs((double) f.decode(c) - a);
        if (d < bestD || (d == bestD && c % 2 == 0)) {
          bestD = d;
          best = c;
        }
      }
      if (a >= f.max()) {
        best = f.maxCode();
      }
      int expected = best | (x < 0 ? 0x80 : 0);
      assertThat(f.encode(x) & 0xff).as("x = %s", x).isEqualTo(expected);
    }
  }
}
