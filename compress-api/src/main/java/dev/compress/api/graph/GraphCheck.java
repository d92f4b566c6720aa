package dev.compress.api.graph;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The structural rules of an ONNX graph, checked over a whole model: what ONNX Runtime and the ONNX
 * checker refuse to load, so a broken model is stopped when it is read (a corrupt or hand-edited
 * file) and before it is written (a bug in an edit).
 *
 * <p>Rules, for the main graph and every subgraph (GRAPH and GRAPHS attributes of any node):
 *
 * <ol>
 *   <li>every value is defined once: graph inputs are unique, and no node output repeats a graph
 *       input, an initializer or another node's output (single static assignment). An initializer
 *       may also be listed as a graph input (older exporters do);
 *   <li>every non-empty node input is defined: by a graph input, an initializer, a node output, or
 *       for a subgraph a value of an enclosing graph (If/Loop/Scan bodies read outer-scope values);
 *       an empty name is an omitted optional input;
 *   <li>every graph output is a graph input, an initializer or a node output (a subgraph output may
 *       also be an outer-scope value);
 *   <li>the nodes are free of cycles. A node depends on the producers of its inputs and of the
 *       outer-scope values its subgraphs read;
 *   <li>initializers are consistent: stored under their own name, and where a graph input of the
 *       same name declares a type, of that element type and shape.
 * </ol>
 *
 * <p>The ONNX IR also requires the nodes in topological order. A graph that is acyclic but out of
 * order is reported as a {@link Kind#OUT_OF_ORDER} problem, which {@link #sortNodes} repairs: ONNX
 * Runtime sorts such a graph itself on loading, so readers accept it and sort it, while writers
 * write the sorted order.
 *
 * <p>The check is a pure function of the model: it builds its own name tables and changes nothing
 * (except {@link #sortNodes}). It runs in time linear in the number of nodes and values.
 */
public final class GraphCheck {
  private GraphCheck() {}

  /** What kind of rule a problem breaks. */
  public enum Kind {
    /** A node input that nothing defines. */
    UNDEFINED_INPUT,
    /** A graph output that nothing computes. */
    UNPRODUCED_OUTPUT,
    /** A value defined twice, or a value without a name where one is required. */
    DUPLICATE_VALUE,
    /** Nodes that depend on each other in a cycle. */
    CYCLE,
    /** Acyclic nodes that are not in topological order (repairable by {@link #sortNodes}). */
    OUT_OF_ORDER,
    /** An initializer inconsistent with its name or with the graph input that declares it. */
    INITIALIZER_TYPE
  }

  /**
   * One broken rule.
   *
   * @param kind the rule
   * @param graph where: {@code graph 'main'}, or for a subgraph the path through the nodes that
   *     hold it ({@code graph 'main' > node 'If_3' (If).then_branch})
   * @param node the node involved, or null for a graph input, output or initializer
   * @param value the value name involved (may be empty)
   * @param detail one line saying what is wrong
   */
  public record Problem(Kind kind, String graph, Node node, String value, String detail) {
    /** The problem as one line: where, then what. */
    public String message() {
      return graph + ": " + detail;
    }

    @Override
    public String toString() {
      return message();
    }
  }

  /** Every problem of {@code model}, main graph first, then subgraphs in node order. */
  public static List<Problem> problems(ModelGraph model) {
    return problems(model.graph());
  }

  /** Every problem of {@code graph} (a main graph) and its subgraphs. */
  public static List<Problem> problems(Graph graph) {
    List<Problem> out = new ArrayList<>();
    check(graph, null, List.of("graph '" + graph.name() + "'"), out);
    return out;
  }

  /**
   * The problems that {@link #sortNodes} cannot repair: everything but {@link Kind#OUT_OF_ORDER}.
   */
  public static List<Problem> errors(ModelGraph model) {
    return problems(model).stream().filter(p -> p.kind() != Kind.OUT_OF_ORDER).toList();
  }

  /**
   * One line for a list of problems: the first one, and how many more there are.
   *
   * @throws IllegalArgumentException when the list is empty
   */
  public static String summary(List<Problem> problems) {
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("no problems");
    }
    String first = problems.getFirst().message();
    int more = problems.size() - 1;
    return more == 0
        ? first
        : first + " (and " + more + " more problem" + (more > 1 ? "s" : "") + ")";
  }

  /**
   * Reorders the nodes of the main graph and of every subgraph into topological order, keeping the
   * existing order wherever it already is one (a graph in order is left as it is).
   *
   * @return the number of graphs whose order changed
   * @throws IllegalStateException when a graph has a cycle (check {@link #errors} first)
   */
  public static int sortNodes(ModelGraph model) {
    return sortNodes(model.graph(), null);
  }

  private static int sortNodes(Graph g, Scope outer) {
    Scope scope = Scope.of(g, outer);
    int changed = 0;
    for (Node n : g.nodes()) {
      for (Graph sub : subgraphs(n)) {
        changed += sortNodes(sub, scope);
      }
    }
    List<Problem> sink = new ArrayList<>();
    int[] order = order(g, scope, freeReads(g, scope), "", sink);
    if (order == null) {
      throw new IllegalStateException("graph '" + g.name() + "' has a cycle: " + sink);
    }
    if (!isIdentity(order)) {
      List<Node> sorted = new ArrayList<>(order.length);
      for (int i : order) {
        sorted.add(g.nodes().get(i));
      }
      g.nodes().clear();
      g.nodes().addAll(sorted);
      changed++;
    }
    return changed;
  }

  // ---- the check ----

  /** Names defined in one graph, and the enclosing graph's scope. */
  private record Scope(Set<String> names, Map<String, Integer> producers, Scope outer) {
    static Scope of(Graph g, Scope outer) {
      Set<String> names = new HashSet<>();
      Map<String, Integer> producers = new HashMap<>();
      for (ValueInfo v : g.inputs()) {
        names.add(v.name());
      }
      names.addAll(g.initializers().keySet());
      List<Node> nodes = g.nodes();
      for (int i = 0; i < nodes.size(); i++) {
        for (String o : nodes.get(i).outputs()) {
          if (!o.isEmpty()) {
            producers.putIfAbsent(o, i);
            names.add(o);
          }
        }
      }
      return new Scope(names, producers, outer);
    }

    boolean visible(String name) {
      for (Scope s = this; s != null; s = s.outer) {
        if (s.names.contains(name)) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * Checks {@code g} and its subgraphs; returns the outer-scope names {@code g} reads (directly or
   * through its subgraphs), each defined in some enclosing graph.
   */
  private static Set<String> check(Graph g, Scope outer, List<String> path, List<Problem> out) {
    String where = where(path);
    definitions(g, where, out);
    initializerTypes(g, where, out);
    Scope scope = Scope.of(g, outer);
    String definers =
        outer == null
            ? "no node, graph input or initializer defines"
            : "no node, graph input, initializer or enclosing graph defines";

    List<Set<String>> subReads = new ArrayList<>(g.nodes().size());
    for (Node n : g.nodes()) {
      Set<String> reads = new LinkedHashSet<>();
      for (Map.Entry<String, Graph> sub : namedSubgraphs(n).entrySet()) {
        List<String> inner = new ArrayList<>(path);
        inner.add(describe(n) + "." + sub.getKey());
        reads.addAll(check(sub.getValue(), scope, inner, out));
      }
      subReads.add(reads);
    }

    Set<String> free = new LinkedHashSet<>();
    for (int i = 0; i < g.nodes().size(); i++) {
      Node n = g.nodes().get(i);
      for (String in : n.inputs()) {
        if (in.isEmpty() || scope.names.contains(in)) {
          continue;
        }
        if (outer != null && outer.visible(in)) {
          free.add(in);
        } else {
          out.add(
              new Problem(
                  Kind.UNDEFINED_INPUT,
                  where,
                  n,
                  in,
                  describe(n) + " reads '" + in + "', which " + definers));
        }
      }
      for (String in : subReads.get(i)) {
        if (!scope.names.contains(in)) {
          free.add(in); // the subgraph's check found it in a scope further out
        }
      }
    }
    for (int k = 0; k < g.outputs().size(); k++) {
      String o = g.outputs().get(k).name();
      if (o.isEmpty()) {
        out.add(
            new Problem(
                Kind.UNPRODUCED_OUTPUT, where, null, o, "graph output #" + k + " has no name"));
      } else if (scope.names.contains(o)) {
        continue;
      } else if (outer != null && outer.visible(o)) {
        free.add(o);
      } else {
        out.add(
            new Problem(
                Kind.UNPRODUCED_OUTPUT,
                where,
                null,
                o,
                "graph output '"
                    + o
                    + "' is computed by no node (and is no graph input or"
                    + " initializer)"));
      }
    }
    order(g, scope, subReads, where, out);
    return free;
  }

  private static void definitions(Graph g, String where, List<Problem> out) {
    Map<String, Object> defined = new HashMap<>(); // name -> its definition (a Node or a word)
    for (ValueInfo v : g.inputs()) {
      if (v.name().isEmpty()) {
        out.add(new Problem(Kind.DUPLICATE_VALUE, where, null, "", "a graph input has no name"));
      } else if (defined.putIfAbsent(v.name(), "graph input") != null) {
        out.add(
            new Problem(
                Kind.DUPLICATE_VALUE,
                where,
                null,
                v.name(),
                "graph input '" + v.name() + "' is declared twice"));
      }
    }
    for (String init : g.initializers().keySet()) {
      defined.putIfAbsent(init, "initializer"); // an initializer may be a graph input too
    }
    for (Node n : g.nodes()) {
      for (String o : n.outputs()) {
        if (o.isEmpty()) {
          continue;
        }
        Object before = defined.putIfAbsent(o, n);
        if (before != null) {
          out.add(
              new Problem(
                  Kind.DUPLICATE_VALUE,
                  where,
                  n,
                  o,
                  describe(n)
                      + " writes '"
                      + o
                      + "', which "
                      + (before == n
                          ? "it also writes"
                          : (before instanceof Node b ? describe(b) : before) + " defines")
                      + " already (each value must be defined once)"));
        }
      }
    }
  }

  private static void initializerTypes(Graph g, String where, List<Problem> out) {
    Map<String, ValueInfo> inputs = new HashMap<>();
    for (ValueInfo v : g.inputs()) {
      inputs.putIfAbsent(v.name(), v);
    }
    for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
      Tensor t = e.getValue();
      if (!t.name().equals(e.getKey())) {
        out.add(
            new Problem(
                Kind.INITIALIZER_TYPE,
                where,
                null,
                e.getKey(),
                "initializer stored as '" + e.getKey() + "' is named '" + t.name() + "'"));
        continue;
      }
      ValueInfo v = inputs.get(t.name());
      if (v == null || !v.hasTensorType()) {
        continue;
      }
      Optional<DataType> declared = v.elemType();
      boolean typeDiffers =
          v.elemTypeCode() != 0 && (declared.isEmpty() || declared.get() != t.dtype());
      boolean shapeDiffers = v.shape() != null && !compatible(v.shape(), t.shape());
      if (typeDiffers || shapeDiffers) {
        out.add(
            new Problem(
                Kind.INITIALIZER_TYPE,
                where,
                null,
                t.name(),
                "initializer '"
                    + t.name()
                    + "' is "
                    + t.dtype()
                    + Arrays.toString(t.shape())
                    + " but the graph input of that name declares "
                    + v.typeString()));
      }
    }
  }

  private static boolean compatible(List<ValueInfo.Dim> declared, long[] actual) {
    if (declared.size() != actual.length) {
      return false;
    }
    for (int i = 0; i < actual.length; i++) {
      long d = declared.get(i).value();
      if (d >= 0 && d != actual[i]) {
        return false;
      }
    }
    return true;
  }

  /** Outer-scope reads of each node's subgraphs, without reporting anything. */
  private static List<Set<String>> freeReads(Graph g, Scope scope) {
    List<Set<String>> reads = new ArrayList<>(g.nodes().size());
    List<Problem> ignored = new ArrayList<>();
    for (Node n : g.nodes()) {
      Set<String> r = new LinkedHashSet<>();
      for (Graph sub : subgraphs(n)) {
        r.addAll(check(sub, scope, List.of(), ignored));
      }
      reads.add(r);
    }
    return reads;
  }

  /**
   * A topological order of {@code g}'s nodes (indexes), the earliest available node first so an
   * order that is already topological is kept; null when there is a cycle, which is reported. An
   * acyclic graph out of order is reported as {@link Kind#OUT_OF_ORDER}.
   */
  private static int[] order(
      Graph g, Scope scope, List<Set<String>> subReads, String where, List<Problem> out) {
    List<Node> nodes = g.nodes();
    int size = nodes.size();
    List<List<Integer>> consumers = new ArrayList<>(size);
    int[] pending = new int[size];
    for (int i = 0; i < size; i++) {
      consumers.add(new ArrayList<>());
    }
    int firstLate = -1; // first node reading a value a later node computes
    String lateValue = "";
    for (int i = 0; i < size; i++) {
      Set<Integer> deps = new LinkedHashSet<>();
      List<String> reads = new ArrayList<>(nodes.get(i).inputs());
      reads.addAll(subReads.get(i));
      for (String r : reads) {
        Integer p = r.isEmpty() ? null : scope.producers.get(r);
        if (p != null && deps.add(p)) {
          consumers.get(p).add(i);
          pending[i]++;
          if (p >= i && firstLate < 0) {
            firstLate = i;
            lateValue = r;
          }
        }
      }
    }
    PriorityQueue<Integer> ready = new PriorityQueue<>();
    for (int i = 0; i < size; i++) {
      if (pending[i] == 0) {
        ready.add(i);
      }
    }
    int[] order = new int[size];
    int placed = 0;
    while (!ready.isEmpty()) {
      int i = ready.poll();
      order[placed++] = i;
      for (int c : consumers.get(i)) {
        if (--pending[c] == 0) {
          ready.add(c);
        }
      }
    }
    if (placed < size) {
      out.add(cycle(g, scope, subReads, pending, where));
      return null;
    }
    if (firstLate >= 0) {
      Node n = nodes.get(firstLate);
      Node p = nodes.get(scope.producers.get(lateValue));
      out.add(
          new Problem(
              Kind.OUT_OF_ORDER,
              where,
              n,
              lateValue,
              "nodes are not in topological order: "
                  + describe(n)
                  + " reads '"
                  + lateValue
                  + "', which "
                  + describe(p)
                  + " computes later"));
    }
    return order;
  }

  /** Finds one cycle among the nodes left with unmet dependencies and describes it. */
  private static Problem cycle(
      Graph g, Scope scope, List<Set<String>> subReads, int[] pending, String where) {
    List<Node> nodes = g.nodes();
    int start = 0;
    while (pending[start] == 0) {
      start++;
    }
    // Walk back through unplaced producers until a node repeats: that closes a cycle.
    Map<Integer, Integer> seenAt = new HashMap<>();
    List<Integer> path = new ArrayList<>();
    List<String> via = new ArrayList<>();
    int at = start;
    while (!seenAt.containsKey(at)) {
      seenAt.put(at, path.size());
      path.add(at);
      String next = null;
      List<String> reads = new ArrayList<>(nodes.get(at).inputs());
      reads.addAll(subReads.get(at));
      for (String r : reads) {
        Integer p = r.isEmpty() ? null : scope.producers.get(r);
        if (p != null && pending[p] > 0) {
          next = r;
          at = p;
          break;
        }
      }
      via.add(next);
      if (next == null) {
        break; // cannot happen: an unplaced node has an unplaced producer
      }
    }
    int from = seenAt.getOrDefault(at, 0);
    StringBuilder steps = new StringBuilder(describe(nodes.get(path.get(from))));
    for (int k = from; k < path.size(); k++) {
      // path[k] reads via[k], which path[k + 1] (or, closing the cycle, path[from]) computes
      int producer = k + 1 < path.size() ? path.get(k + 1) : path.get(from);
      steps
          .append(k == from ? " reads '" : ", which reads '")
          .append(via.get(k))
          .append("' from ")
          .append(describe(nodes.get(producer)));
    }
    return new Problem(
        Kind.CYCLE,
        where,
        nodes.get(path.get(from)),
        via.get(from),
        "nodes form a cycle: " + steps);
  }

  // ---- helpers ----

  /** The path to a graph, its middle left out when deeply nested, so messages stay short. */
  private static String where(List<String> path) {
    if (path.size() <= 4) {
      return String.join(" > ", path);
    }
    return path.getFirst()
        + " > ... ("
        + (path.size() - 3)
        + " levels) > "
        + String.join(" > ", path.subList(path.size() - 2, path.size()));
  }

  /** {@code node 'NAME' (OP)}, or for an unnamed node its outputs. */
  static String describe(Node n) {
    String name =
        n.name().isEmpty()
            ? "<unnamed, writes " + String.join(", ", n.outputs()) + ">"
            : "'" + n.name() + "'";
    return "node " + name + " (" + n.qualifiedOpType() + ")";
  }

  private static Map<String, Graph> namedSubgraphs(Node n) {
    Map<String, Graph> out = new java.util.LinkedHashMap<>();
    for (Attribute a : n.attributes().values()) {
      if (a.type() == Attribute.Type.GRAPH && a.value() != null) {
        out.put(a.name(), a.asGraph());
      } else if (a.type() == Attribute.Type.GRAPHS && a.value() != null) {
        List<Graph> gs = a.asGraphs();
        for (int i = 0; i < gs.size(); i++) {
          out.put(a.name() + "[" + i + "]", gs.get(i));
        }
      }
    }
    return out;
  }

  private static List<Graph> subgraphs(Node n) {
    return List.copyOf(namedSubgraphs(n).values());
  }

  private static boolean isIdentity(int[] order) {
    for (int i = 0; i < order.length; i++) {
      if (order[i] != i) {
        return false;
      }
    }
    return true;
  }
}
