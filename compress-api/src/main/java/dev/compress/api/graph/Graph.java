package dev.compress.api.graph;

import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A computation graph with ONNX semantics: nodes in topological order, named constant weights
 * (initializers), declared inputs and outputs. Subgraphs of control-flow nodes (If/Loop/Scan) are
 * held in their node's GRAPH attributes.
 *
 * <p>Mutable: passes replace weights and rewire nodes. Lookups by value name are computed on demand
 * (not cached), so they never go stale after a change.
 */
public final class Graph {
  private String name;
  private final List<Node> nodes = new ArrayList<>();
  private final Map<String, Tensor> initializers = new LinkedHashMap<>();
  private final List<ValueInfo> inputs = new ArrayList<>();
  private final List<ValueInfo> outputs = new ArrayList<>();
  private final List<ValueInfo> valueInfo = new ArrayList<>();
  private String docString = "";
  private final Map<String, String> metadata = new LinkedHashMap<>();
  private final PreservedFields preserved = new PreservedFields();

  public Graph(String name) {
    this.name = name == null ? "" : name;
  }

  public String name() {
    return name;
  }

  public void setName(String name) {
    this.name = name == null ? "" : name;
  }

  /** Mutable node list, in topological order. */
  public List<Node> nodes() {
    return nodes;
  }

  /** Mutable map of initializers by name, in file order. */
  public Map<String, Tensor> initializers() {
    return initializers;
  }

  /** Adds or replaces an initializer under its own name. */
  public void putInitializer(Tensor t) {
    initializers.put(t.name(), t);
  }

  /** Mutable list of graph inputs (may include initializers, as older exporters do). */
  public List<ValueInfo> inputs() {
    return inputs;
  }

  /** Mutable list of graph outputs. */
  public List<ValueInfo> outputs() {
    return outputs;
  }

  /** Mutable list of declared intermediate value types. */
  public List<ValueInfo> valueInfo() {
    return valueInfo;
  }

  public String docString() {
    return docString;
  }

  public void setDocString(String doc) {
    this.docString = doc == null ? "" : doc;
  }

  /** Mutable metadata properties. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Fields not modelled (sparse initializers, quantization annotations, future fields). */
  public PreservedFields preserved() {
    return preserved;
  }

  /** Graph inputs that are not initializers: what a caller must feed. */
  public List<ValueInfo> feedInputs() {
    return inputs.stream().filter(v -> !initializers.containsKey(v.name())).toList();
  }

  /**
   * The constant value of {@code valueName}: an initializer, or the {@code value} of a {@code
   * Constant} node producing it.
   */
  public Optional<Tensor> constant(String valueName) {
    Tensor t = initializers.get(valueName);
    if (t != null) {
      return Optional.of(t);
    }
    for (Node n : nodes) {
      if (n.opType().equals("Constant") && n.domain().isEmpty() && n.output(0).equals(valueName)) {
        return n.attribute("value")
            .filter(a -> a.type() == Attribute.Type.TENSOR)
            .map(Attribute::asTensor);
      }
    }
    return Optional.empty();
  }

  /** The node producing {@code valueName}, if any. */
  public Optional<Node> producer(String valueName) {
    for (Node n : nodes) {
      if (n.outputs().contains(valueName)) {
        return Optional.of(n);
      }
    }
    return Optional.empty();
  }

  /** Nodes consuming {@code valueName}, in graph order. */
  public List<Node> consumers(String valueName) {
    List<Node> out = new ArrayList<>();
    for (Node n : nodes) {
      if (n.inputs().contains(valueName)) {
        out.add(n);
      }
    }
    return out;
  }

  /** Map from value name to its producing node, for repeated lookups on an unchanging graph. */
  public Map<String, Node> producerIndex() {
    Map<String, Node> m = new HashMap<>();
    for (Node n : nodes) {
      for (String o : n.outputs()) {
        if (!o.isEmpty()) {
          m.put(o, n);
        }
      }
    }
    return m;
  }

  /** Map from value name to the nodes consuming it, for repeated lookups on an unchanging graph. */
  public Map<String, List<Node>> consumerIndex() {
    Map<String, List<Node>> m = new HashMap<>();
    for (Node n : nodes) {
      for (String i : n.inputs()) {
        if (!i.isEmpty()) {
          m.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
        }
      }
    }
    return m;
  }

  /** The node with this name, if any. */
  public Optional<Node> node(String nodeName) {
    return nodes.stream().filter(n -> n.name().equals(nodeName)).findFirst();
  }

  /**
   * A structural copy: own node, initializer and value lists (nodes and subgraphs copied, so edits
   * to the copy never reach this graph); the tensors themselves are shared, since they are
   * immutable (large weights stay one read-only mapped buffer).
   */
  public Graph copy() {
    Graph g = new Graph(name);
    for (Node n : nodes) {
      g.nodes.add(n.copy());
    }
    g.initializers.putAll(initializers);
    g.inputs.addAll(inputs);
    g.outputs.addAll(outputs);
    g.valueInfo.addAll(valueInfo);
    g.docString = docString;
    g.metadata.putAll(metadata);
    g.preserved.addAll(preserved);
    return g;
  }
}
