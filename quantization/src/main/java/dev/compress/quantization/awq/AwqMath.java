package dev.compress.quantization.awq;

import dev.compress.quantization.grid.MinMaxGrid;
import dev.compress.quantization.grid.QuantizedMatrix;
import java.util.stream.IntStream;

/**
 * The arithmetic of AWQ (Lin et al. 2023, "AWQ: Activation-aware Weight Quantization for LLM
 * Compression and Acceleration"; reference {@code llm-awq/awq/quantize/auto_scale.py} and {@code
 * auto_clip.py}) on plain arrays: activation and weight statistics, the scales of one alpha, the
 * fake-quantized scaled weight {@code Q(W s) / s}, and the clip search.
 *
 * <p>Matrices are row-major {@code (out, in)} (PyTorch's {@code weight}); activations are {@code
 * (tokens, in)}.
 */
public final class AwqMath {
  /** Lower bound of a scale ({@code clamp(min=1e-4)} in the reference). */
  public static final double MIN_SCALE = 1e-4;

  /** Clip grid: {@code max * (1 - i / CLIP_GRID)}. */
  public static final int CLIP_GRID = 20;

  /** Clip steps: {@code i = 0 .. CLIP_STEPS - 1} ({@code max_shrink = 0.5}). */
  public static final int CLIP_STEPS = 10;

  private AwqMath() {}

  /**
   * The duo-scaling weight statistic: for each weight, {@code |w| / max|w|} over its row's group,
   * averaged over all rows of all matrices (AutoAWQ's {@code get_weight_scale} on the concatenated
   * weights of the layers sharing the input).
   */
  public static double[] weightMean(float[][] weights, int in, int groupSize) {
    double[] sum = new double[in];
    long rows = 0;
    for (float[] w : weights) {
      int out = w.length / in;
      for (int r = 0; r < out; r++) {
        for (int g = 0; g < in; g += groupSize) {
          float max = 0;
          for (int j = g; j < g + groupSize; j++) {
            max = Math.max(max, Math.abs(w[r * in + j]));
          }
          for (int j = g; j < g + groupSize; j++) {
            sum[j] += max == 0 ? 0 : Math.abs(w[r * in + j]) / max;
          }
        }
      }
      rows += out;
    }
    for (int j = 0; j < in; j++) {
      sum[j] /= rows;
    }
    return sum;
  }

  /**
   * The scales of one alpha: {@code s = max(s_x^alpha, 1e-4)} (or with duo scaling {@code
   * max(s_x^alpha / (s_w^(1 - alpha) + 1e-4), 1e-4)}), then {@code s /= sqrt(max(s) min(s))}.
   *
   * @param sx mean |x| per input channel
   * @param sw the weight statistic for duo scaling, or null
   */
  public static float[] scales(double[] sx, double[] sw, double alpha) {
    int n = sx.length;
    float[] s = new float[n];
    float max = Float.NEGATIVE_INFINITY;
    float min = Float.POSITIVE_INFINITY;
    for (int j = 0; j < n; j++) {
      double v = Math.pow(sx[j], alpha);
      if (sw != null) {
        v = v / (Math.pow(sw[j], 1 - alpha) + 1e-4);
      }
      s[j] = (float) Math.max(v, MIN_SCALE);
      max = Math.max(max, s[j]);
      min = Math.min(min, s[j]);
    }
    float norm = (float) Math.sqrt((double) max * min);
    for (int j = 0; j < n; j++) {
      s[j] /= norm;
    }
    return s;
  }

  /** {@code W s}: column {@code j} multiplied by {@code s[j]}. */
  public static float[] scaleColumns(float[] w, int in, float[] s) {
    float[] out = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      out[i] = w[i] * s[i % in];
    }
    return out;
  }

  /**
   * {@code Q(W s) / s} on the min-max grid; with {@code s = null}, {@code Q(W)}.
   *
   * @throws IllegalArgumentException on a non-finite weight
   */
  public static float[] fakeQuantize(
      float[] w, int out, int in, float[] s, int bits, int groupSize, boolean symmetric) {
    float[] ws = s == null ? w : scaleColumns(w, in, s);
    float[] q = QuantizedMatrix.quantize(ws, out, in, bits, groupSize, symmetric).dequantize();
    if (s != null) {
      for (int i = 0; i < q.length; i++) {
        q[i] /= s[i % in];
      }
    }
    return q;
  }

  /**
   * AWQ's clip search: for each output row and group, the threshold {@code t = max|w| (1 - i/20)},
   * {@code i = 0..9}, whose clamped-then-quantized weights {@code q = Q(clamp(w, -t, t))} minimise
   * the mean over tokens of the group's output error {@code (x . (q - w))^2}; ties keep the smaller
   * {@code i}. The error is evaluated through the group's Gram matrix {@code G = X_g^T X_g}, {@code
   * d^T G d}, which equals the sum over tokens.
   *
   * @param w {@code (out, in)} weights
   * @param x {@code (tokens, in)} sampled activations
   * @return the threshold per {@code (row, group)}, row-major {@code (out, in / groupSize)}
   */
  public static float[] clipThresholds(
      float[] w,
      int out,
      int in,
      float[] x,
      int tokens,
      int bits,
      int groupSize,
      boolean symmetric) {
    int groups = in / groupSize;
    double[][] gram = new double[groups][];
    IntStream.range(0, groups)
        .parallel()
        .forEach(
            g -> {
              double[] gm = new double[groupSize * groupSize];
              int off = g * groupSize;
              for (int t = 0; t < tokens; t++) {
                int row = t * in + off;
                for (int a = 0; a < groupSize; a++) {
                  double xa = x[row + a];
                  if (xa == 0) {
                    continue;
                  }
                  for (int b = a; b < groupSize; b++) {
                    gm[a * groupSize + b] += xa * x[row + b];
                  }
                }
              }
              for (int a = 0; a < groupSize; a++) {
                for (int b = 0; b < a; b++) {
                  gm[a * groupSize + b] = gm[b * groupSize + a];
                }
              }
              gram[g] = gm;
            });
    float[] thresholds = new float[out * groups];
    int maxq = MinMaxGrid.maxq(bits);
    IntStream.range(0, out)
        .parallel()
        .forEach(
            r -> {
              float[] c = new float[groupSize];
              double[] d = new double[groupSize];
              for (int g = 0; g < groups; g++) {
                int start = r * in + g * groupSize;
                float amax = 0;
                for (int j = 0; j < groupSize; j++) {
                  amax = Math.max(amax, Math.abs(w[start + j]));
                }
                float best = amax;
                double bestErr = Double.POSITIVE_INFINITY;
                for (int i = 0; i < CLIP_STEPS; i++) {
                  float t = amax * (1f - (float) i / CLIP_GRID);
                  float min = Float.POSITIVE_INFINITY;
                  float max = Float.NEGATIVE_INFINITY;
                  for (int j = 0; j < groupSize; j++) {
                    c[j] = Math.max(-t, Math.min(t, w[start + j]));
                    min = Math.min(min, c[j]);
                    max = Math.max(max, c[j]);
                  }
                  MinMaxGrid.Params p = MinMaxGrid.fit(min, max, bits, symmetric);
                  for (int j = 0; j < groupSize; j++) {
                    int code = MinMaxGrid.quantize(c[j], p, maxq);
                    d[j] = MinMaxGrid.dequantize(code, p.scale(), p.zero()) - w[start + j];
                  }
                  double err = quadratic(gram[g], d, groupSize);
                  if (err < bestErr) {
                    bestErr = err;
                    best = t;
                  }
                }
                thresholds[r * groups + g] = best;
              }
            });
    return thresholds;
  }

  private static double quadratic(double[] gm, double[] d, int n) {
    double sum = 0;
    for (int a = 0; a < n; a++) {
      if (d[a] == 0) {
        continue;
      }
      double row = 0;
      int off = a * n;
      for (int b = 0; b < n; b++) {
        row += gm[off + b] * d[b];
      }
      sum += d[a] * row;
    }
    return sum;
  }

  /** Clamps each weight to {@code [-t, t]} of its row and group. */
  public static float[] applyClip(float[] w, int out, int in, int groupSize, float[] thresholds) {
    int groups = in / groupSize;
    float[] c = new float[w.length];
    for (int r = 0; r < out; r++) {
      for (int j = 0; j < in; j++) {
        float t = thresholds[r * groups + j / groupSize];
        c[r * in + j] = Math.max(-t, Math.min(t, w[r * in + j]));
      }
    }
    return c;
  }

  /** {@code sum over tokens of ||x (q - w)^T||^2}, the layer output error of a weight change. */
  public static double outputError(float[] w, float[] q, int out, int in, float[] x, int tokens) {
    double err = 0;
    for (int t = 0; t < tokens; t++) {
      for (int r = 0; r < out; r++) {
        double acc = 0;
        for (int j = 0; j < in; j++) {
          acc += (double) x[t * in + j] * (q[r * in + j] - w[r * in + j]);
        }
        err += acc * acc;
      }
    }
    return err;
  }
}
