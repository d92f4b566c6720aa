package dev.compress.pruning.magnitude;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The two-pass histogram selection against sorting, with many ties, signs and zeros. */
class MagnitudeThresholdTest {

  /** Reference: sort (|w|, array, index) and take the first k. */
  private static boolean[][] reference(float[][] arrays, long k) {
    List<int[]> pos = new ArrayList<>();
    for (int a = 0; a < arrays.length; a++) {
      for (int i = 0; i < arrays[a].length; i++) {
        pos.add(new int[] {a, i});
      }
    }
    pos.sort(
        Comparator.<int[]>comparingDouble(p -> Math.abs(arrays[p[0]][p[1]]))
            .thenComparingInt(p -> p[0])
            .thenComparingInt(p -> p[1]));
    boolean[][] mask = new boolean[arrays.length][];
    for (int a = 0; a < arrays.length; a++) {
      mask[a] = new boolean[arrays[a].length];
    }
    for (int j = 0; j < k; j++) {
      mask[pos.get(j)[0]][pos.get(j)[1]] = true;
    }
    return mask;
  }

  private static boolean[][] select(float[][] arrays, long k) {
    MagnitudeThreshold.Selection s = MagnitudeThreshold.select(arrays.length, a -> arrays[a], k);
    long ties = s.ties();
    boolean[][] mask = new boolean[arrays.length][];
    for (int a = 0; a < arrays.length; a++) {
      mask[a] = new boolean[arrays[a].length];
      for (int i = 0; i < arrays[a].length; i++) {
        int key = MagnitudeThreshold.key(arrays[a][i]);
        if (key < s.key() || (key == s.key() && ties-- > 0)) {
          mask[a][i] = true;
        }
      }
    }
    return mask;
  }

  @Test
  void matchesSortingIncludingTiesAndSigns() {
    Random r = new Random(17);
    float[][] arrays = new float[3][];
    for (int a = 0; a < arrays.length; a++) {
      arrays[a] = new float[200 + 50 * a];
      for (int i = 0; i < arrays[a].length; i++) {
        // few distinct magnitudes, both signs, zeros and negative zeros: ties everywhere
        float v = (r.nextInt(9) - 4) * 0.125f;
        arrays[a][i] = v == 0 && r.nextBoolean() ? -0f : v;
      }
    }
    long total = 200 + 250 + 300;
    for (long k : new long[] {0, 1, 37, 100, 375, 600, total - 1, total}) {
      assertThat(select(arrays, k)).as("k=%d", k).isDeepEqualTo(reference(arrays, k));
    }
  }

  @Test
  void exactOnContinuousValuesWithWideRange() {
    Random r = new Random(3);
    float[][] arrays = {new float[5000]};
    for (int i = 0; i < arrays[0].length; i++) {
      arrays[0][i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(12) - 6));
    }
    for (long k : new long[] {1, 2500, 4999}) {
      assertThat(select(arrays, k)).isDeepEqualTo(reference(arrays, k));
    }
  }
}
