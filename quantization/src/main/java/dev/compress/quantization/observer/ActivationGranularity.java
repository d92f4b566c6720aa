package dev.compress.quantization.observer;

/**
 * Which activation values share one quantization range. Activations are seen as rows of {@code
 * cols} features: a token is a row, an input feature (channel) is a column.
 */
public enum ActivationGranularity {
  /** One range for the whole tensor: what a static integer matmul needs. */
  PER_TENSOR,
  /**
   * One range per token (row) of the batch just observed: computed at run time by dynamic
   * quantization, so a calibration observer reports the ranges of its latest batch only.
   */
  PER_TOKEN,
  /**
   * One range per input feature (column), accumulated over every token: what SmoothQuant needs to
   * find outlier channels ({@code max |X_j|}).
   */
  PER_CHANNEL
}
