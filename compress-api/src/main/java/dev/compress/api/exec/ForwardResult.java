package dev.compress.api.exec;

import dev.compress.api.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * What one {@link Executor#forward(Map, java.util.Set)} call produced: the graph outputs, and for
 * each captured node the tensors that entered it.
 *
 * <p>All tensors are heap copies owned by the caller; they stay valid after the executor is closed.
 *
 * @param outputs graph outputs by name, in the graph's output order
 * @param captured for each requested node name, its runtime inputs in the node's input order: every
 *     input that is neither omitted nor a constant (initializers and {@code Constant} outputs are
 *     left out, since they are already in the graph). Each tensor is named after its value.
 */
public record ForwardResult(Map<String, Tensor> outputs, Map<String, List<Tensor>> captured) {

  /** Copies the maps (the tensors are immutable). */
  public ForwardResult {
    outputs = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(outputs));
    captured = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(captured));
  }

  /** The output named {@code name}. */
  public Tensor output(String name) {
    Tensor t = outputs.get(name);
    if (t == null) {
      throw new NoSuchElementException("no output '" + name + "'; outputs: " + outputs.keySet());
    }
    return t;
  }

  /**
   * The activation entering {@code nodeName}: its first runtime input (for a MatMul/Gemm/Conv with
   * a constant weight, the data input).
   */
  public Tensor activation(String nodeName) {
    List<Tensor> in = captured.get(nodeName);
    if (in == null) {
      throw new NoSuchElementException(
          "node '" + nodeName + "' was not captured; captured: " + captured.keySet());
    }
    if (in.isEmpty()) {
      throw new NoSuchElementException("node '" + nodeName + "' has only constant inputs");
    }
    return in.get(0);
  }
}
