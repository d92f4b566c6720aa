package dev.compress.training.optim;

import ai.djl.ndarray.NDArray;
import dev.compress.training.Parameter;
import java.util.List;

/**
 * Gradient clipping by global norm (Pascanu, Mikolov, Bengio, "On the difficulty of training
 * recurrent neural networks", 2013), as PyTorch's {@code clip_grad_norm_}: with {@code n = sqrt(sum
 * over all gradient elements of g^2)}, every gradient is scaled by {@code max / (n + 1e-6)} when
 * that is below 1. The direction of the update is kept, unlike DJL's element-wise clamp.
 */
public final class GradClip {
  private GradClip() {}

  /** The global norm of the gradients, accumulated in float64 over parameters. */
  public static double globalNorm(List<Parameter> params) {
    double sum = 0;
    for (Parameter p : params) {
      try (NDArray g = p.gradient();
          NDArray sq = g.square();
          NDArray s = sq.sum()) {
        sum += s.getFloat();
      }
    }
    return Math.sqrt(sum);
  }

  /**
   * Clips in place and returns the norm before clipping; {@code maxNorm <= 0} only measures. A
   * non-finite norm is returned without touching the gradients (the caller stops).
   */
  public static double clipGlobalNorm(List<Parameter> params, double maxNorm) {
    double norm = globalNorm(params);
    if (maxNorm > 0 && Double.isFinite(norm)) {
      double scale = maxNorm / (norm + 1e-6);
      if (scale < 1) {
        for (Parameter p : params) {
          try (NDArray g = p.gradient()) {
            g.muli((float) scale);
          }
        }
      }
    }
    return norm;
  }
}
