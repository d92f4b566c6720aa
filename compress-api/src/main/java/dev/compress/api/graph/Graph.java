package dev.compress.api.graph;

import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A computation graph with ONNX semantics: nodes in topological order, named constant weights
 * (initializers), declared inputs and outputs. Subgraphs of control-flow nodes (If/Loop/Scan) are
 * held in their node's GRAPH attributes.
 *
 * <p>Mutable: passes replace weights and rewire nodes, through a {@link GraphEditor} that keeps the
 * graph's def-use {@link GraphIndex} (producers, consumers, constants) current.
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

  /**
   * The subgraphs held by this graph's nodes (GRAPH and GRAPHS attributes: If branches, Loop and
   * Scan bodies), in node order; not those nested deeper.
   */
  public List<Graph> subgraphs() {
    List<Graph> out = new ArrayList<>();
    for (Node n : nodes) {
      out.addAll(n.subgraphs());
    }
    return out;
  }

  /** Every node of every subgraph at any depth below this graph (not this graph's own nodes). */
  public List<Node> subgraphNodes() {
    List<Node> out = new ArrayList<>();
    for (Graph sub : subgraphs()) {
      out.addAll(sub.nodes());
      out.addAll(sub.subgraphNodes());
    }
    return out;
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
