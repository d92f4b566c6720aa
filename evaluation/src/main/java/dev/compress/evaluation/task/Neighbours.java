package dev.compress.evaluation.task;

import java.util.Arrays;

/**
 * Nearest neighbours of L2-normalized embeddings by cosine similarity (dot product), each point's
 * neighbours excluding itself (leave-one-out). Ties in similarity go to the lower index, so results
 * are deterministic.
 */
public final class Neighbours {
  private Neighbours() {}

  /**
   * The {@code k} nearest other points of each point, nearest first.
   *
   * @param emb rows of equal length (normalized for cosine)
   * @return {@code [n][k]} indices
   */
  public static int[][] nearest(float[][] emb, int k) {
    int n = emb.length;
    if (k <= 0 || k >= n) {
      throw new IllegalArgumentException("need 0 < k < " + n + " points, found k = " + k);
    }
    int[][] out = new int[n][];
    double[] sim = new double[n];
    Integer[] idx = new Integer[n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        sim[j] = j == i ? Double.NEGATIVE_INFINITY : dot(emb[i], emb[j]);
        idx[j] = j;
      }
      // Partial selection would be faster; n is at most a few thousand here.
      Arrays.sort(idx, (a, b) -> sim[a] != sim[b] ? Double.compare(sim[b], sim[a]) : a - b);
      out[i] = new int[k];
      for (int r = 0; r < k; r++) {
        out[i][r] = idx[r];
      }
    }
    return out;
  }

  /**
   * Leave-one-out k-NN classification: each point gets the majority label of its {@code k} nearest
   * other points; a tie goes to the label whose tied neighbours have the larger summed similarity.
   *
   * @param emb normalized embeddings
   * @param labels one label per point, in [0, classes)
   * @return the predicted label of each point
   */
  public static int[] predict(float[][] emb, int[] labels, int k) {
    int[][] nn = nearest(emb, k);
    int classes = Arrays.stream(labels).max().orElse(0) + 1;
    int[] pred = new int[emb.length];
    for (int i = 0; i < emb.length; i++) {
      int[] votes = new int[classes];
      double[] weight = new double[classes];
      for (int j : nn[i]) {
        votes[labels[j]]++;
        weight[labels[j]] += dot(emb[i], emb[j]);
      }
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (votes[c] > votes[best] || (votes[c] == votes[best] && weight[c] > weight[best])) {
          best = c;
        }
      }
      pred[i] = best;
    }
    return pred;
  }

  /** Fraction of equal entries. */
  public static double agreement(int[] a, int[] b) {
    int same = 0;
    for (int i = 0; i < a.length; i++) {
      same += a[i] == b[i] ? 1 : 0;
    }
    return (double) same / a.length;
  }

  /** Mean over points of |kNN_a ∩ kNN_b| / k. */
  public static double overlap(int[][] a, int[][] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      int common = 0;
      for (int x : a[i]) {
        for (int y : b[i]) {
          if (x == y) {
            common++;
            break;
          }
        }
      }
      sum += (double) common / a[i].length;
    }
    return sum / a.length;
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }
}
