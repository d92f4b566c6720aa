package dev.compress.quantization.observer;

/**
 * The 8-bit grid of one activation range, as ONNX {@code QuantizeLinear} applies it: {@code q =
 * saturate(round_half_even(x / scale) + zeroPoint)}, {@code x' = (q - zeroPoint) * scale}.
 *
 * <ul>
 *   <li>asymmetric uint8 (what ONNX Runtime's CPU integer kernels prefer for activations): the
 *       range widened to include 0, {@code scale = (max - min) / 255}, {@code zeroPoint =
 *       clamp(round(-min / scale), 0, 255)}, codes in {@code [0, 255]};
 *   <li>symmetric int8: {@code scale = max(|min|, |max|) / 127}, {@code zeroPoint = 0}, codes in
 *       {@code [-128, 127]}.
 * </ul>
 *
 * A range of only zeros gets {@code [-1, 1]}, as the weight grid does.
 *
 * @param scale the step, positive and finite
 * @param zeroPoint the code of 0
 * @param symmetric int8 (true) or uint8 (false) codes
 */
public record ActivationQuantParams(float scale, int zeroPoint, boolean symmetric) {
  /** Validates the step and zero point. */
  public ActivationQuantParams {
    if (!(scale > 0) || !Float.isFinite(scale)) {
      throw new IllegalArgumentException("scale must be positive and finite, found " + scale);
    }
    if (zeroPoint < qmin(symmetric) || zeroPoint > qmax(symmetric)) {
      throw new IllegalArgumentException("zero point " + zeroPoint + " out of range");
    }
  }

  /** The grid for {@code range}. */
  public static ActivationQuantParams of(Range range, boolean symmetric) {
    Range r = range.withZero();
    if (symmetric) {
      float a = r.absMax();
      float s = a / 127f;
      return new ActivationQuantParams(s > 0 && Float.isFinite(s) ? s : 1f / 127f, 0, true);
    }
    float s = (r.max() - r.min()) / 255f;
    if (!(s > 0) || !Float.isFinite(s)) {
      return new ActivationQuantParams(2f / 255f, 128, false);
    }
    int zp = (int) Math.max(0, Math.min(255, Math.rint(-r.min() / s)));
    return new ActivationQuantParams(s, zp, false);
  }

  /** The smallest code: -128 or 0. */
  public static int qmin(boolean symmetric) {
    return symmetric ? -128 : 0;
  }

  /** The largest code: 127 or 255. */
  public static int qmax(boolean symmetric) {
    return symmetric ? 127 : 255;
  }

  /** The code of {@code x}. */
  public int quantize(float x) {
    float q = (float) Math.rint(x / scale) + zeroPoint;
    return (int) Math.max(qmin(symmetric), Math.min(qmax(symmetric), q));
  }

  /** {@code x} quantized and dequantized. */
  public float fakeQuant(float x) {
    return (quantize(x) - zeroPoint) * scale;
  }
}
