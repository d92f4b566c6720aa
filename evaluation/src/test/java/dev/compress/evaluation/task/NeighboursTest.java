package dev.compress.evaluation.task;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class NeighboursTest {
  static float[][] clusters(int perClass, double spread, long seed) {
    Random r = new Random(seed);
    float[][] x = new float[2 * perClass][];
    for (int i = 0; i < x.length; i++) {
      double cx = i < perClass ? 1 : -1;
      float[] v = {
        (float) (cx + spread * r.nextGaussian()), (float) (1 + spread * r.nextGaussian())
      };
      double n = Math.hypot(v[0], v[1]);
      x[i] = new float[] {(float) (v[0] / n), (float) (v[1] / n)};
    }
    return x;
  }

  @Test
  void separatedClustersAreClassifiedPerfectly() {
    float[][] x = clusters(20, 0.05, 1);
    int[] labels = new int[40];
    for (int i = 20; i < 40; i++) {
      labels[i] = 1;
    }
    assertThat(Neighbours.agreement(Neighbours.predict(x, labels, 10), labels)).isEqualTo(1.0);
    // Overlapping clusters: worse than perfect, better than chance.
    float[][] y = clusters(200, 1.0, 2);
    int[] l2 = new int[400];
    for (int i = 200; i < 400; i++) {
      l2[i] = 1;
    }
    double acc = Neighbours.agreement(Neighbours.predict(y, l2, 10), l2);
    assertThat(acc).isBetween(0.55, 0.99); // measured 0.8375
  }

  @Test
  void nearestExcludesSelfAndOverlapCountsShared() {
    float[][] x = {{1, 0}, {0.9f, 0.1f}, {0, 1}, {0.1f, 0.9f}};
    int[][] nn = Neighbours.nearest(x, 1);
    assertThat(nn).isDeepEqualTo(new int[][] {{1}, {0}, {3}, {2}});
    assertThat(Neighbours.overlap(nn, nn)).isEqualTo(1.0);
    assertThat(Neighbours.overlap(nn, new int[][] {{1}, {2}, {3}, {0}})).isEqualTo(0.5);
  }
}
