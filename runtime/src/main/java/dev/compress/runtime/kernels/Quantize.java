package dev.compress.runtime.kernels;

/** ONNX quantization arithmetic shared by the kernels and the interpreter's quantization ops. */
public final class Quantize {
  private Quantize() {}

  /** A scale and zero point. */
  public record Params(float scale, int zeroPoint) {}

  /**
   * {@code DynamicQuantizeLinear}'s parameters for {@code x}: the range {@code [min(0, min x),
   * max(0, max x)]} mapped onto uint8, {@code scale = (max - min) / 255}, {@code zero_point =
   * clamp(rint(-min / scale), 0, 255)}. An all-zero tensor gets scale 1 (not 0).
   */
  public static Params dynamicUint8(float[] x) {
    float min = 0;
    float max = 0;
    for (float v : x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    float scale = (max - min) / 255f;
    if (scale == 0f || !Float.isFinite(scale)) {
      scale = scale == 0f ? 1f : scale;
    }
    int zp = (int) Math.max(0, Math.min(255, Math.rint((0f - min) / scale)));
    return new Params(scale, zp);
  }

  /** {@code QuantizeLinear}: {@code clamp(rint(x / scale) + zp, lo, hi)} (round half to even). */
  public static int quantize(float x, float scale, int zp, int lo, int hi) {
    float v = (float) Math.rint(x / scale) + zp;
    return (int) Math.max(lo, Math.min(hi, v));
  }
}
