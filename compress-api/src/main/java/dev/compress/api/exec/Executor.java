package dev.compress.api.exec;

import dev.compress.api.CompressionException;
import dev.compress.api.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a model on api {@link Tensor}s: one interface over several engines (the DJL PyTorch
 * interpreter, ONNX Runtime).
 *
 * <h2>Lifecycle</h2>
 *
 * <ol>
 *   <li><b>Construction</b> (each implementation's factory or builder) does all the expensive,
 *       failure-prone work up front: it checks that every node can be executed (an unsupported
 *       operator is an {@link dev.compress.api.UnsupportedModelException} naming the operator and
 *       the node, before any input is seen), converts the weights to the engine's format once and
 *       allocates the engine's long-lived resources. The executor snapshots the model: later
 *       changes to the {@code ModelGraph} are not seen; build a new executor after a pass changes
 *       the graph.
 *   <li><b>{@code forward}</b> may be called any number of times. Each call owns its temporaries
 *       and releases them (native memory included) before it returns, so memory does not grow with
 *       the number of calls. Inputs are not modified; outputs are fresh heap tensors owned by the
 *       caller that outlive the executor.
 *   <li><b>{@link #close()}</b> releases the weights and native resources. It is idempotent.
 *       Calling {@code forward} after {@code close} throws {@link IllegalStateException}. Use
 *       try-with-resources.
 * </ol>
 *
 * <p>Implementations allow concurrent {@code forward} calls from several threads; {@code close}
 * must not race with them.
 */
public interface Executor extends AutoCloseable {

  /** The inputs a caller must feed, in graph order (graph inputs that are not initializers). */
  List<String> inputNames();

  /** The graph outputs every {@code forward} returns, in graph order. */
  List<String> outputNames();

  /** The device this executor runs on. */
  Device device();

  /** Whether {@link #forward(Map, Set)} can capture node inputs (false for ONNX Runtime). */
  boolean supportsCapture();

  /**
   * Runs the model.
   *
   * @param inputs one tensor per name of {@link #inputNames()}; element types must match the
   *     model's declared input types
   * @return the graph outputs by name, in graph order; heap tensors owned by the caller
   * @throws IllegalArgumentException when an input is missing, unknown, or of the wrong type or
   *     rank
   * @throws dev.compress.api.UnsupportedModelException when a node cannot be executed for these
   *     inputs (names the operator and the node)
   * @throws CompressionException when the engine fails on a node (names the node and the engine's
   *     message)
   */
  default Map<String, Tensor> forward(Map<String, Tensor> inputs) throws CompressionException {
    return forward(inputs, Set.of()).outputs();
  }

  /**
   * Runs the model and records the runtime inputs of the named nodes, e.g. the activation entering
   * {@code /encoder/layer.0/attention/self/query/MatMul}, for calibration.
   *
   * @param inputs as for {@link #forward(Map)}
   * @param captureNodes node names whose inputs to record; empty for none
   * @return outputs plus the captured inputs
   * @throws IllegalArgumentException as for {@link #forward(Map)}, or when a capture name is not a
   *     node of the graph
   * @throws UnsupportedOperationException when {@code captureNodes} is not empty and the engine
   *     cannot capture ({@link #supportsCapture()} is false)
   * @throws CompressionException as for {@link #forward(Map)}
   */
  ForwardResult forward(Map<String, Tensor> inputs, Set<String> captureNodes)
      throws CompressionException;

  /** Releases weights and native resources; idempotent. */
  @Override
  void close();
}
