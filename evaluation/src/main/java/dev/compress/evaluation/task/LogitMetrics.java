package dev.compress.evaluation.task;

/**
 * Metrics on rows of logits: log-softmax, KL divergence between the softmax of a reference and of a
 * model, argmax, and the negative log-likelihood of a target. Computed in double precision with the
 * max subtracted before exponentiation.
 */
public final class LogitMetrics {
  private LogitMetrics() {}

  /** log softmax of {@code x[off .. off+n)}. */
  public static double[] logSoftmax(float[] x, int off, int n) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, x[off + i]);
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += Math.exp(x[off + i] - max);
    }
    double lse = max + Math.log(sum);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = x[off + i] - lse;
    }
    return out;
  }

  /** KL(p || q) in nats, from log-probabilities. */
  public static double kl(double[] logP, double[] logQ) {
    double s = 0;
    for (int i = 0; i < logP.length; i++) {
      double p = Math.exp(logP[i]);
      if (p > 0) {
        s += p * (logP[i] - logQ[i]);
      }
    }
    return Math.max(0, s);
  }

  /** Index of the largest of {@code x[off .. off+n)} (the first on ties). */
  public static int argmax(float[] x, int off, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      if (x[off + i] > x[off + best]) {
        best = i;
      }
    }
    return best;
  }
}
