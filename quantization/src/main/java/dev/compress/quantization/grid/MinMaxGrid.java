package dev.compress.quantization.grid;

/**
 * The min-max quantization grid of the GPTQ reference implementation (Frantar et al. 2022, {@code
 * quant.py}, {@code Quantizer.find_params}/{@code quantize}), shared by round-to-nearest and the
 * calibrated quantizers so that they agree on the grid exactly.
 *
 * <p>For a group of values with minimum {@code min} and maximum {@code max} and {@code maxq =
 * 2^bits - 1}:
 *
 * <ul>
 *   <li>the range is forced to include zero: {@code xmin = min(min, 0)}, {@code xmax = max(max,
 *       0)};
 *   <li>asymmetric: {@code scale = (xmax - xmin) / maxq}, {@code zero = round(-xmin / scale)};
 *   <li>symmetric: {@code xmax = max(|xmin|, xmax)}, {@code xmin = -xmax}, {@code scale = 2 xmax /
 *       maxq}, {@code zero = (maxq + 1) / 2} (8 for 4 bits, 128 for 8 bits), so the signed codes
 *       {@code q - zero} span {@code [-2^(bits-1), 2^(bits-1) - 1]}, e.g. {@code [-8, 7]};
 *   <li>an all-zero group falls back to the range {@code [-1, 1]};
 *   <li>{@code q = clamp(round(x / scale) + zero, 0, maxq)}, {@code x' = (q - zero) * scale}.
 * </ul>
 *
 * <p>All arithmetic is f32 and {@code round} is round-half-to-even ({@code torch.round}, {@link
 * Math#rint}), as in the reference on f32 weights.
 *
 * <p>One deliberate difference: for a symmetric group with no negative value, the reference keeps
 * {@code xmin = 0}, which makes the scale half as large and clips the group to 7/15 of its maximum;
 * here the symmetric range is always {@code [-xmax, xmax]}. Groups with a negative value (all but
 * pathological ones in trained weights) are quantized identically.
 */
public final class MinMaxGrid {
  private MinMaxGrid() {}

  /**
   * The scale and zero point of one group.
   *
   * @param scale the step, positive and finite
   * @param zero the code that stands for 0, in {@code [0, maxq]}
   */
  public record Params(float scale, int zero) {}

  /** The largest code, {@code 2^bits - 1}. */
  public static int maxq(int bits) {
    if (bits < 2 || bits > 8) {
      throw new IllegalArgumentException("bits must be in [2, 8], found " + bits);
    }
    return (1 << bits) - 1;
  }

  /**
   * Fits the grid to a group with the given extremes.
   *
   * @throws IllegalArgumentException when {@code min} or {@code max} is not finite
   */
  public static Params fit(float min, float max, int bits, boolean symmetric) {
    if (!Float.isFinite(min) || !Float.isFinite(max)) {
      throw new IllegalArgumentException("values must be finite, found [" + min + ", " + max + "]");
    }
    int maxq = maxq(bits);
    float xmin = Math.min(min, 0f);
    float xmax = Math.max(max, 0f);
    if (symmetric) {
      xmax = Math.max(Math.abs(xmin), xmax);
      xmin = -xmax;
    }
    float scale = (xmax - xmin) / maxq;
    if (!(scale > 0f) || !Float.isFinite(scale)) {
      // All zero (or so close to zero that the step underflows): the reference's [-1, 1].
      xmin = -1f;
      xmax = 1f;
      scale = (xmax - xmin) / maxq;
    }
    int zero = symmetric ? (maxq + 1) / 2 : (int) Math.rint(-xmin / scale);
    return new Params(scale, zero);
  }

  /** The code of {@code x}: {@code clamp(round(x / scale) + zero, 0, maxq)}. */
  public static int quantize(float x, Params p, int maxq) {
    float q = (float) Math.rint(x / p.scale()) + p.zero();
    return (int) Math.max(0f, Math.min(maxq, q));
  }

  /** The value a code stands for: {@code (q - zero) * scale}. */
  public static float dequantize(int q, float scale, int zero) {
    return (q - zero) * scale;
  }
}
