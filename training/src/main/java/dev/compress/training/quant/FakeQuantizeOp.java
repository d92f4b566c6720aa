package dev.compress.training.quant;

import ai.djl.ndarray.NDArray;

/**
 * The graph operator of quantization-aware training: {@code dev.compress.training::FakeQuantize}, a
 * node that a training graph holds and the trainable interpreter runs with the straight-through
 * estimator. It exists only inside a training run: the {@code qat} pass replaces every such node by
 * real integer storage ({@code MatMulNBits}, {@code DequantizeLinear}, {@code QuantizeLinear})
 * before the model is written, and no runtime other than the project's DJL interpreter knows it.
 *
 * <p>Inputs: {@code X} (float), {@code scale} (float, positive), {@code zero_point} (float holding
 * integers, the shape of {@code scale}; optional, 0). The scale's shape follows ONNX {@code
 * QuantizeLinear}-21: a scalar (per tensor), or blocked: the rank of {@code X}, with {@code
 * X.shape[axis] / block_size} along {@code axis} (one value per block of {@code block_size}
 * consecutive entries along {@code axis}; {@code block_size = X.shape[axis]} is per channel).
 * Attributes: {@code axis}, {@code block_size} (0 for a scalar scale), {@code qmin}, {@code qmax}
 * (the code range), {@code grad_scale} (LSQ's {@code g}, default 1). Output:
 *
 * <pre>
 *   Y = (clamp(round(X / s) + z, qmin, qmax) - z) * s
 * </pre>
 *
 * exactly {@code DequantizeLinear(QuantizeLinear(X))} on the same grid (round half to even). The
 * gradients (Esser et al. 2020, "Learned Step Size Quantization", eqs. 3-5):
 *
 * <ul>
 *   <li>{@code dY/dX = 1} where {@code qmin - z <= X/s <= qmax - z}, else 0 (the clipped
 *       straight-through estimator);
 *   <li>{@code dY/ds = g * (round(X/s) - X/s)} inside the range, {@code g * (qmin - z)} below and
 *       {@code g * (qmax - z)} above, summed over the entries that share the scale; with {@code g =
 *       1/sqrt(N * Q_P)} ({@link #lsqGradScale}) the step size learns at the rate of the weights;
 *   <li>no gradient reaches {@code zero_point}.
 * </ul>
 *
 * A fixed scale is simply a scale that is not a trainable parameter.
 */
public final class FakeQuantizeOp {
  private FakeQuantizeOp() {}

  /** The operator's domain; never written to a model file. */
  public static final String DOMAIN = "dev.compress.training";

  /** The operator's type. */
  public static final String OP_TYPE = "FakeQuantize";

  /** {@code domain::op}, as the interpreter registers it. */
  public static final String QUALIFIED = DOMAIN + "::" + OP_TYPE;

  /**
   * LSQ's gradient scale {@code g = 1 / sqrt(N * Q_P)}.
   *
   * @param n the number of values sharing one step size (a group, a row, or an activation's
   *     features)
   * @param qp the number of positive quantization levels {@code Q_P}
   */
  public static double lsqGradScale(long n, double qp) {
    if (n < 1 || !(qp > 0)) {
      throw new IllegalArgumentException("N and Q_P must be positive, found " + n + ", " + qp);
    }
    return 1 / Math.sqrt(n * qp);
  }

  /** LSQ's initial step size {@code 2 * mean|v| / sqrt(Q_P)} of {@code v[from, from + n)}. */
  public static float lsqInitScale(float[] v, int from, int n, double qp) {
    double sum = 0;
    for (int i = from; i < from + n; i++) {
      sum += Math.abs(v[i]);
    }
    double s = 2 * (sum / n) / Math.sqrt(qp);
    return s > 0 && Double.isFinite(s) ? (float) s : (float) (1 / Math.sqrt(qp));
  }

  /**
   * The forward with the gradients of the class comment, from differentiable engine operations:
   * {@code scale} and {@code zero} already broadcast against {@code x}. The value of {@code stop(s)
   * + (s g - stop(s g))} is exactly {@code s}, its gradient {@code g}; {@code c + stop(round(c) -
   * c)} rounds with gradient 1; {@code clip} passes the gradient inside its range only. The zero
   * point bounds the clip ({@code round(clamp(x/s, qmin - z, qmax - z)) = clamp(round(x/s) + z,
   * qmin, qmax) - z} for integer {@code z}), so the rounding sees {@code x/s} itself, as {@code
   * QuantizeLinear} does.
   */
  public static NDArray apply(
      NDArray x, NDArray scale, NDArray zero, float qmin, float qmax, float gradScale) {
    NDArray s = scale;
    if (gradScale != 1f) {
      // stop(s) + (s g - stop(s g)): exactly s in value (the export's scale), gradient g
      NDArray sg = scale.mul(gradScale);
      s = scale.stopGradient().add(sg.sub(sg.stopGradient()));
    }
    NDArray v = x.div(s);
    NDArray c;
    if (zero == null) {
      c = v.clip(qmin, qmax);
    } else {
      NDArray z = zero.stopGradient();
      // clip to per-element bounds: max(min(v, qmax - z), qmin - z)
      c = v.minimum(z.neg().add(qmax)).maximum(z.neg().add(qmin));
    }
    NDArray r = c.add(c.round().sub(c).stopGradient());
    return r.mul(s);
  }

  /**
   * The code of one value on the same grid, in the same float32 arithmetic as {@link #apply} and
   * ONNX {@code QuantizeLinear}: {@code clamp(round(x / s) + z, qmin, qmax)}; the export writes
   * these codes.
   */
  public static int code(float x, float s, float z, int qmin, int qmax) {
    float v = (float) Math.rint(x / s) + z;
    return (int) Math.max(qmin, Math.min(qmax, v));
  }
}
