package dev.compress.training.data;

import dev.compress.api.tensor.Tensor;
import java.util.Map;

/**
 * Examples the loop draws batches from, by index. Implementations are immutable; {@link #batch} may
 * be called from the training thread only.
 */
public interface BatchSource {
  /** Number of examples. */
  int size();

  /**
   * The examples at {@code indices}, stacked along a new first axis of each named tensor (graph
   * inputs, and any targets such as {@code labels}).
   *
   * @throws IndexOutOfBoundsException for an index outside {@code [0, size())}
   */
  Map<String, Tensor> batch(int[] indices);
}
