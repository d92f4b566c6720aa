package dev.compress.quantization.observer;

/**
 * A closed range of real values {@code [min, max]} that a quantizer maps onto its grid.
 *
 * @param min the low end (finite, at most {@code max})
 * @param max the high end (finite)
 */
public record Range(float min, float max) {
  /** Validates the ends. */
  public Range {
    if (!Float.isFinite(min) || !Float.isFinite(max) || min > max) {
      throw new IllegalArgumentException("invalid range [" + min + ", " + max + "]");
    }
  }

  /** {@code max(|min|, |max|)}. */
  public float absMax() {
    return Math.max(Math.abs(min), Math.abs(max));
  }

  /** The range widened to include 0, as integer grids require (0 must be exact). */
  public Range withZero() {
    return new Range(Math.min(min, 0f), Math.max(max, 0f));
  }

  /** This range clipped to {@code [-t, t]} (never narrower than 0 on either side). */
  public Range clipTo(float t) {
    return new Range(Math.max(min, -t), Math.min(max, t)).withZero();
  }
}
