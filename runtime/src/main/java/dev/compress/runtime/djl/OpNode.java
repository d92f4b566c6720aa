package dev.compress.runtime.djl;

import dev.compress.api.UnsupportedModelException;
import dev.compress.api.graph.Node;
import dev.compress.api.tensor.Tensor;
import java.util.Map;
import java.util.Optional;

/**
 * A node being compiled, with the opset version its domain imports (operator semantics change
 * between versions: Softmax's axis, Squeeze's axes, ...).
 *
 * @param node the node
 * @param opset the imported version of the node's domain
 * @param constants values known when the graph is compiled (initializers that are not graph inputs,
 *     folded {@code Constant} nodes), by value name
 */
record OpNode(Node node, long opset, Map<String, Tensor> constants) {

  /** A node compiled without knowledge of constant values. */
  OpNode(Node node, long opset) {
    this(node, opset, Map.of());
  }

  /** Input {@code i}'s value when it is a constant known at compile time. */
  Optional<Tensor> constantInput(int i) {
    if (i >= node.inputs().size() || node.input(i).isEmpty()) {
      return Optional.empty();
    }
    return Optional.ofNullable(constants.get(node.input(i)));
  }

  /** {@code Op 'name'} (with {@code domain::} for custom domains), for messages. */
  String where() {
    return node.qualifiedOpType() + " '" + node.name() + "'";
  }

  /** An exception saying this node cannot be executed, and why. */
  UnsupportedModelException unsupported(String detail) {
    return new UnsupportedModelException("DjlExecutor cannot run " + where() + ": " + detail);
  }

  /** Fails when the node requests any output at index {@code >= supported}. */
  void requireAtMostOutputs(int supported, String what) throws UnsupportedModelException {
    for (int i = supported; i < node.outputs().size(); i++) {
      if (!node.output(i).isEmpty()) {
        throw unsupported("output " + i + " ('" + node.output(i) + "') is not supported: " + what);
      }
    }
  }

  /** Whether output {@code i} is requested. */
  boolean wantsOutput(int i) {
    return !node.output(i).isEmpty();
  }

  long intAttr(String name, long dflt) {
    return node.intAttr(name, dflt);
  }

  float floatAttr(String name, float dflt) {
    return node.floatAttr(name, dflt);
  }

  long[] intsAttr(String name, long[] dflt) {
    return node.intsAttr(name, dflt);
  }

  String stringAttr(String name, String dflt) {
    return node.stringAttr(name, dflt);
  }
}
