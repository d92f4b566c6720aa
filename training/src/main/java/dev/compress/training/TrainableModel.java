package dev.compress.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.CompressionException;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model graph run by an engine with autograd, some of its initializers being trainable {@link
 * Parameter}s (chosen by a {@link ParameterSelection}; the rest are frozen).
 *
 * <p>Lifecycle: built by a {@link TrainableFactory} over a snapshot of the graph; the parameters
 * live in the model's native memory until {@link #close()}. Each {@link #forward} creates its
 * results in the caller's {@link NDManager} (use {@link #newManager()} for one on the model's
 * device, in try-with-resources per step); the interpreter's intermediates are released inside the
 * call, the recorded autograd graph lives until the results are closed or back-propagated. Inside a
 * {@link #recordGradients()} scope a forward is recorded for {@link GradientRecording#backward};
 * outside it, nothing is recorded (a frozen forward, e.g. validation or a teacher).
 *
 * <p>Quantized-kernel fusion is off: every node runs as its ONNX operator. An operator on the path
 * from a parameter to an output that cannot be differentiated is rejected when the model is built,
 * naming the operator and the node. Not thread-safe; one training step at a time.
 */
public interface TrainableModel extends AutoCloseable {

  /** Graph inputs a forward needs, in graph order. */
  List<String> inputNames();

  /** Graph outputs, in graph order. */
  List<String> outputNames();

  /** The device the parameters live on. */
  Device device();

  /** The trainable parameters in graph order. */
  List<Parameter> parameters();

  /** A new manager on the model's device for one step's arrays; the caller closes it. */
  NDManager newManager();

  /**
   * Runs the graph. The results (the graph outputs, then each value of {@code values} — any value
   * name in the graph, e.g. a hidden state) are arrays of {@code manager}. Inputs are not closed or
   * modified.
   *
   * @throws IllegalArgumentException naming a missing or unknown input, or a value the graph has no
   *     producer for
   * @throws CompressionException when a node fails, naming the node and its input shapes
   */
  Map<String, NDArray> forward(NDManager manager, Map<String, NDArray> inputs, Set<String> values)
      throws CompressionException;

  /** {@link #forward(NDManager, Map, Set)} with the graph outputs only. */
  default Map<String, NDArray> forward(NDManager manager, Map<String, NDArray> inputs)
      throws CompressionException {
    return forward(manager, inputs, Set.of());
  }

  /**
   * Opens a gradient recording.
   *
   * @throws IllegalStateException when another recording is open in this process
   */
  GradientRecording recordGradients();

  /** Sets every parameter's gradient to zero (backward calls accumulate). */
  void zeroGradients();

  /** The current parameter values as tensors in each initializer's stored type, by name. */
  Map<String, Tensor> parameterValues();

  /**
   * Replaces the parameters' values.
   *
   * @throws IllegalArgumentException naming a tensor that is not a parameter or whose shape differs
   */
  void loadParameters(Map<String, Tensor> values);

  /**
   * Writes the trained values into {@code model}'s initializers of the same names, each in its
   * stored element type (float16 stays float16).
   *
   * @throws IllegalArgumentException naming a parameter the target has no initializer for, or one
   *     of another shape
   */
  void writeTo(ModelGraph model);

  /** Frees the parameters and frozen weights. */
  @Override
  void close();
}
