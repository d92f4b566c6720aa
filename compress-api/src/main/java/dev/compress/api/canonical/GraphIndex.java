package dev.compress.api.canonical;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A snapshot of the def-use relations of one graph, for pattern matching: producer and consumers of
 * every value, graph outputs, constants, names that subgraphs read from the enclosing scope, and
 * the element types that can be known without shape inference. Rebuilt after every rewrite, so it
 * is never stale.
 */
final class GraphIndex {
  final Graph graph;
  private final Map<String, Node> producers;
  private final Map<String, List<Node>> consumers;
  private final Set<String> graphOutputs = new HashSet<>();
  private final Set<String> subgraphReads = new HashSet<>();
  private final Map<String, Tensor> constantNodes = new HashMap<>();
  private final Map<String, DataType> declaredTypes = new HashMap<>();

  GraphIndex(Graph graph) {
    this.graph = graph;
    this.producers = graph.producerIndex();
    this.consumers = graph.consumerIndex();
    graph.outputs().forEach(v -> graphOutputs.add(v.name()));
    for (Node n : graph.nodes()) {
      if (n.opType().equals("Constant") && n.domain().isEmpty()) {
        n.attribute("value")
            .filter(a -> a.type() == Attribute.Type.TENSOR)
            .ifPresent(a -> constantNodes.put(n.output(0), a.asTensor()));
      }
      for (Attribute a : n.attributes().values()) {
        collectSubgraphReads(a, subgraphReads);
      }
    }
    for (List<ValueInfo> l : List.of(graph.inputs(), graph.outputs(), graph.valueInfo())) {
      for (ValueInfo v : l) {
        v.elemType().ifPresent(t -> declaredTypes.put(v.name(), t));
      }
    }
  }

  /** Every input name used by any node of a subgraph held in {@code a}, recursively. */
  private static void collectSubgraphReads(Attribute a, Set<String> out) {
    List<Graph> graphs =
        switch (a.type()) {
          case GRAPH -> a.value() == null ? List.of() : List.of(a.asGraph());
          case GRAPHS -> a.value() == null ? List.of() : a.asGraphs();
          default -> List.of();
        };
    for (Graph g : graphs) {
      for (Node n : g.nodes()) {
        out.addAll(n.inputs());
        for (Attribute sub : n.attributes().values()) {
          collectSubgraphReads(sub, out);
        }
      }
      g.outputs().forEach(v -> out.add(v.name()));
    }
  }

  /** The node producing {@code value}, if any. */
  Optional<Node> producer(String value) {
    return Optional.ofNullable(producers.get(value));
  }

  /** The node producing {@code value} if it has the given (default-domain) op type. */
  Optional<Node> producer(String value, String opType) {
    return producer(value).filter(n -> isOp(n, opType));
  }

  /** Nodes reading {@code value} (a node reading it twice appears twice). */
  List<Node> consumers(String value) {
    List<Node> l = consumers.get(value);
    return l == null ? List.of() : l;
  }

  /** The only consumer of {@code value}, when it has exactly one and is not otherwise observed. */
  Optional<Node> soleConsumer(String value) {
    List<Node> l = consumers(value);
    if (l.size() != 1 || isObservable(value)) {
      return Optional.empty();
    }
    return Optional.of(l.get(0));
  }

  /** True if {@code value} is a graph output or read by a subgraph. */
  boolean isObservable(String value) {
    return graphOutputs.contains(value) || subgraphReads.contains(value);
  }

  /**
   * True if nothing outside {@code pattern} observes {@code value}: every consumer is in the
   * pattern, and it is neither a graph output nor read by a subgraph.
   */
  boolean usedOnlyBy(String value, Set<Node> pattern) {
    if (isObservable(value)) {
      return false;
    }
    for (Node c : consumers(value)) {
      if (!pattern.contains(c)) {
        return false;
      }
    }
    return true;
  }

  /** The constant value of {@code value}: an initializer or the output of a Constant node. */
  Optional<Tensor> constant(String value) {
    if (value.isEmpty()) {
      return Optional.empty();
    }
    Tensor t = graph.initializers().get(value);
    return t != null ? Optional.of(t) : Optional.ofNullable(constantNodes.get(value));
  }

  /**
   * The single numeric value of a constant with one element (any rank), widened to double; empty
   * when {@code value} is not such a constant or not of a numeric type.
   */
  Optional<Double> scalar(String value) {
    Optional<Tensor> t = constant(value);
    if (t.isEmpty() || t.get().elementCount() != 1 || t.get().dtype() == DataType.STRING) {
      return Optional.empty();
    }
    try {
      return Optional.of((double) t.get().toFloatArray()[0]);
    } catch (RuntimeException e) {
      return Optional.empty(); // an element type toFloatArray does not widen
    }
  }

  /** True if {@code value} is a one-element constant within {@code tol} of {@code expected}. */
  boolean isScalar(String value, double expected, double tol) {
    return scalar(value).map(v -> Math.abs(v - expected) <= tol).orElse(false);
  }

  /**
   * The element type of {@code value} where it is known without shape inference: declared (graph
   * input, output or value_info), a constant, or the output of a Cast.
   */
  Optional<DataType> dtype(String value) {
    DataType t = declaredTypes.get(value);
    if (t != null) {
      return Optional.of(t);
    }
    Optional<Tensor> c = constant(value);
    if (c.isPresent()) {
      return Optional.of(c.get().dtype());
    }
    return producer(value, "Cast").flatMap(GraphIndex::castTarget);
  }

  /** The {@code to} type of a Cast node. */
  static Optional<DataType> castTarget(Node cast) {
    return cast.attribute("to")
        .filter(a -> a.type() == Attribute.Type.INT)
        .flatMap(a -> DataType.fromOnnx((int) a.asLong()));
  }

  /** True for a Cast node to a floating-point type. */
  static boolean isFloatCast(Node n) {
    return isOp(n, "Cast") && castTarget(n).map(DataType::isFloatingPoint).orElse(false);
  }

  /** True if {@code n} is the default-domain operator {@code opType}. */
  static boolean isOp(Node n, String opType) {
    return n.domain().isEmpty() && n.opType().equals(opType);
  }

  /**
   * Follows {@code value} upward through float Cast nodes that have no other consumer, collecting
   * them into {@code casts}; returns the first value that is not such a Cast's output.
   */
  String skipCastsUp(String value, List<Node> casts) {
    String v = value;
    for (int guard = 0; guard < 4; guard++) {
      Optional<Node> c = producer(v).filter(GraphIndex::isFloatCast);
      if (c.isEmpty() || consumers(v).size() != 1 || isObservable(v)) {
        return v;
      }
      casts.add(c.get());
      v = c.get().input(0);
    }
    return v;
  }

  /** The operand of a binary node other than position {@code i}. */
  static String other(Node binary, int i) {
    return binary.input(1 - i);
  }

  /** Names of all nodes, for generating unique names. */
  Set<String> nodeNames() {
    Set<String> s = new HashSet<>();
    for (Node n : graph.nodes()) {
      s.add(n.name());
    }
    return s;
  }

  /** A list holding the elements of both lists. */
  static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> l = new ArrayList<>(a);
    l.addAll(b);
    return l;
  }
}
