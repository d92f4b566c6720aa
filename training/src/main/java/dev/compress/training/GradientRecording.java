package dev.compress.training;

/**
 * A scope in which forwards of a {@link TrainableModel} record the operations that {@link
 * #backward} differentiates. Open with {@link TrainableModel#recordGradients()} in
 * try-with-resources; only one recording may be open in the process at a time (the PyTorch engine
 * has one autograd recorder per JVM), and opening a second fails with a clear message.
 */
public interface GradientRecording extends AutoCloseable {
  /**
   * Back-propagates {@code loss} (a scalar) into the gradients of the model's parameters, adding to
   * what earlier backward calls left there (zero them with {@link TrainableModel#zeroGradients()}).
   * The recorded graph is freed.
   */
  void backward(ai.djl.ndarray.NDArray loss);

  /** Stops recording. */
  @Override
  void close();
}
