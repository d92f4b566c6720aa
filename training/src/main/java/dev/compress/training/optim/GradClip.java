package dev.compress.training.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.compress.training.Parameter;
import java.util.List;
import java.util.Optional;

/**
 * Gradient clipping by global norm (Pascanu, Mikolov, Bengio, "On the difficulty of training
 * recurrent neural networks", 2013), as PyTorch's {@code clip_grad_norm_}: with {@code n = sqrt(sum
 * over all gradient elements of g^2)}, every gradient is scaled by {@code max / (n + 1e-6)} when
 * that is below 1. The direction of the update is kept, unlike DJL's element-wise clamp.
 */
public final class GradClip {
  private GradClip() {}

  /**
   * The global norm of the gradients. Squares are summed in float64 (a float32 gradient element
   * above about 1.8e19 would overflow its own square to infinity and stop a run whose gradients are
   * finite).
   */
  public static double globalNorm(List<Parameter> params) {
    double sum = 0;
    for (Parameter p : params) {
      sum += squaredNorm(p);
    }
    return Math.sqrt(sum);
  }

  /**
   * The name of the first parameter whose gradient holds a NaN or an infinity, or empty: what a
   * divergence message names when the global norm is not finite.
   */
  public static Optional<String> firstNonFinite(List<Parameter> params) {
    for (Parameter p : params) {
      if (!Double.isFinite(squaredNorm(p))) {
        return Optional.of(p.name());
      }
    }
    return Optional.empty();
  }

  private static double squaredNorm(Parameter p) {
    try (NDArray g = p.gradient()) {
      if (g.getDataType() == DataType.FLOAT64) {
        try (NDArray sq = g.square();
            NDArray s = sq.sum()) {
          return s.getDouble();
        }
      }
      try (NDArray d = g.toType(DataType.FLOAT64, true);
          NDArray sq = d.square();
          NDArray s = sq.sum()) {
        return s.getDouble();
      }
    }
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
