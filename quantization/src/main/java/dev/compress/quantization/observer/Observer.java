package dev.compress.quantization.observer;

import java.util.List;

/**
 * Watches activations during calibration and proposes the range to quantize them to. Values come as
 * row-major {@code (rows, cols)} blocks: one row per token, one column per input feature. Observers
 * are stateful and not thread-safe; create one per observed tensor with {@link Observers#create}.
 */
public interface Observer {
  /**
   * Accumulates a block of activations.
   *
   * @param x row-major values, at least {@code rows * cols} of them
   * @param rows tokens in the block
   * @param cols features per token; must be the same on every call
   * @throws IllegalArgumentException when {@code cols} changes, or a value is not finite
   */
  void observe(float[] x, int rows, int cols);

  /** The granularity of {@link #ranges()}. */
  ActivationGranularity granularity();

  /**
   * The proposed ranges: one for {@link ActivationGranularity#PER_TENSOR}, one per column for
   * {@link ActivationGranularity#PER_CHANNEL}, one per row of the last block for {@link
   * ActivationGranularity#PER_TOKEN}.
   *
   * @throws IllegalStateException when nothing was observed
   */
  List<Range> ranges();

  /** The single per-tensor range; only for {@link ActivationGranularity#PER_TENSOR}. */
  default Range range() {
    if (granularity() != ActivationGranularity.PER_TENSOR) {
      throw new IllegalStateException("a " + granularity() + " observer has no single range");
    }
    return ranges().get(0);
  }
}
