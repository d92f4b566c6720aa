package dev.compress.training;

import ai.djl.ndarray.NDArray;
import dev.compress.api.tensor.DataType;

/**
 * One trainable initializer of a {@link TrainableModel}.
 *
 * <p>{@code value} is the engine's leaf array (float32 master weights, whatever the stored type),
 * owned by the model: never close it, never attach it elsewhere. Change it only through {@link
 * #update}, which writes into its storage without recording a gradient. Its gradient is accumulated
 * by every {@link GradientRecording#backward} until {@link TrainableModel#zeroGradients()}.
 *
 * @param name the initializer name in the graph
 * @param storedType the initializer's element type in the graph; {@link TrainableModel#writeTo}
 *     writes the trained value back in this type
 * @param shape the initializer's shape
 * @param value the engine array being trained (float32)
 */
public record Parameter(String name, DataType storedType, long[] shape, NDArray value) {

  /** Copies the shape. */
  public Parameter {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Number of elements. */
  public long size() {
    return value.size();
  }

  /**
   * The accumulated gradient, as a new array handle that shares the gradient's storage (close the
   * handle when done; the caller's scope also does). Zeros before the first backward.
   */
  public NDArray gradient() {
    return value.getGradient();
  }

  /**
   * Applies {@code change} to the parameter's storage outside autograd: it receives a detached
   * alias of {@link #value} and must modify it in place ({@code subi}, {@code muli}, {@code set}).
   */
  public void update(java.util.function.Consumer<NDArray> change) {
    try (NDArray alias = value.stopGradient()) {
      change.accept(alias);
    }
  }
}
