package dev.compress.api.graph;

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
 * The def-use relations of one graph: the producer and the consumers of every value, the constants
 * (initializers and {@code Constant} nodes), the graph outputs, the names that subgraphs read from
 * the enclosing scope, and the element types that are known without shape inference.
 *
 * <p>Lifecycle: {@link #of} takes a snapshot in one scan of the graph. The snapshot stays current
 * while every change goes through the {@link GraphEditor} that owns it ({@link GraphEditor#index});
 * a change made to the graph's lists directly makes it stale, and the caller must take a new one.
 * Lookups cost O(1) (consumer lists are returned as read-only views).
 */
public final class GraphIndex {
  private final Graph graph;
  private final Map<String, Node> producers = new HashMap<>();
  private final Map<String, List<Node>> consumers = new HashMap<>();
  private final Set<String> graphOutputs = new HashSet<>();
  private final Set<String> subgraphReads = new HashSet<>();
  private final Map<String, Tensor> constantNodes = new HashMap<>();
  private final Map<String, DataType> declaredTypes = new HashMap<>();

  private GraphIndex(Graph graph) {
    this.graph = graph;
    for (Node n : graph.nodes()) {
      add(n);
    }
    graph.outputs().forEach(v -> graphOutputs.add(v.name()));
    for (List<ValueInfo> l : List.of(graph.inputs(), graph.outputs(), graph.valueInfo())) {
      for (ValueInfo v : l) {
        v.elemType().ifPresent(t -> declaredTypes.put(v.name(), t));
      }
    }
  }

  /**
   * A snapshot of {@code graph}'s def-use relations (its main graph; subgraphs only as readers).
   */
  public static GraphIndex of(Graph graph) {
    return new GraphIndex(graph);
  }

  /** The indexed graph. */
  public Graph graph() {
    return graph;
  }

  /** Records {@code n} (already in the graph's node list) as producer and consumer. */
  void add(Node n) {
    for (String o : n.outputs()) {
      if (!o.isEmpty()) {
        producers.put(o, n);
      }
    }
    for (String i : n.inputs()) {
      if (!i.isEmpty()) {
        consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
      }
    }
    if (isOp(n, "Constant")) {
      n.attribute("value")
          .filter(a -> a.type() == Attribute.Type.TENSOR)
          .ifPresent(a -> constantNodes.put(n.output(0), a.asTensor()));
    }
    for (Attribute a : n.attributes().values()) {
      collectSubgraphReads(a, subgraphReads);
    }
  }

  /**
   * Forgets {@code n} as producer and consumer (subgraph reads are kept: a conservative answer).
   */
  void remove(Node n) {
    for (String o : n.outputs()) {
      if (producers.get(o) == n) {
        producers.remove(o);
        constantNodes.remove(o);
      }
    }
    for (String i : n.inputs()) {
      List<Node> l = consumers.get(i);
      if (l != null) {
        l.removeIf(c -> c == n);
        if (l.isEmpty()) {
          consumers.remove(i);
        }
      }
    }
  }

  /** Records that {@code n} no longer reads {@code from} once and reads {@code to} instead. */
  void rewired(Node n, String from, String to) {
    List<Node> l = consumers.get(from);
    if (l != null) {
      for (int k = 0; k < l.size(); k++) {
        if (l.get(k) == n) {
          l.remove(k);
          break;
        }
      }
      if (l.isEmpty()) {
        consumers.remove(from);
      }
    }
    if (!to.isEmpty()) {
      consumers.computeIfAbsent(to, k -> new ArrayList<>()).add(n);
    }
  }

  void graphOutputRenamed(String from, String to) {
    graphOutputs.remove(from);
    graphOutputs.add(to);
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
  public Optional<Node> producer(String value) {
    return Optional.ofNullable(producers.get(value));
  }

  /** The node producing {@code value} if it is the default-domain operator {@code opType}. */
  public Optional<Node> producer(String value, String opType) {
    return producer(value).filter(n -> isOp(n, opType));
  }

  /** Nodes reading {@code value}, in the order they were indexed (one reading it twice: twice). */
  public List<Node> consumers(String value) {
    List<Node> l = consumers.get(value);
    return l == null ? List.of() : java.util.Collections.unmodifiableList(l);
  }

  /** The distinct nodes reading {@code value} (one reading it twice: once), in indexed order. */
  public List<Node> readers(String value) {
    return consumers(value).stream().distinct().toList();
  }

  /** The only consumer of {@code value}, when it has exactly one and is not otherwise observed. */
  public Optional<Node> soleConsumer(String value) {
    List<Node> l = consumers(value);
    if (l.size() != 1 || isObservable(value)) {
      return Optional.empty();
    }
    return Optional.of(l.get(0));
  }

  /** True if {@code value} is an output of the graph. */
  public boolean isGraphOutput(String value) {
    return graphOutputs.contains(value);
  }

  /** True if {@code value} is a graph output or read by a subgraph. */
  public boolean isObservable(String value) {
    return graphOutputs.contains(value) || subgraphReads.contains(value);
  }

  /** True if something reads {@code value}: a node, a subgraph, or the graph's outputs. */
  public boolean isRead(String value) {
    return consumers.containsKey(value) || isObservable(value);
  }

  /**
   * True if nothing outside {@code nodes} observes {@code value}: every consumer is one of them (by
   * identity), and it is neither a graph output nor read by a subgraph.
   */
  public boolean usedOnlyBy(String value, Set<Node> nodes) {
    if (isObservable(value)) {
      return false;
    }
    for (Node c : consumers(value)) {
      if (!nodes.contains(c)) {
        return false;
      }
    }
    return true;
  }

  /** The constant value of {@code value}: an initializer or the output of a Constant node. */
  public Optional<Tensor> constant(String value) {
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
  public Optional<Double> scalar(String value) {
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

  /**
   * The element type of {@code value} where it is known without shape inference: declared (graph
   * input, output or value_info), a constant, or the output of a Cast.
   */
  public Optional<DataType> dtype(String value) {
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
  public static Optional<DataType> castTarget(Node cast) {
    return cast.attribute("to")
        .filter(a -> a.type() == Attribute.Type.INT)
        .flatMap(a -> DataType.fromOnnx((int) a.asLong()));
  }

  /** True if {@code n} is the default-domain operator {@code opType}. */
  public static boolean isOp(Node n, String opType) {
    return n.domain().isEmpty() && n.opType().equals(opType);
  }

  /** True if {@code n} holds a subgraph (If/Loop/Scan bodies). */
  public static boolean hasSubgraph(Node n) {
    for (Attribute a : n.attributes().values()) {
      if (a.type() == Attribute.Type.GRAPH || a.type() == Attribute.Type.GRAPHS) {
        return true;
      }
    }
    return false;
  }
}
