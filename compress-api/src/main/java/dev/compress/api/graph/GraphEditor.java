package dev.compress.api.graph;

import dev.compress.api.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Edits one graph and keeps its {@link GraphIndex} current: fresh unique names, constants added or
 * replaced (copying one that others still read), nodes inserted and inputs rewired, and what
 * nothing reads any more removed. {@link #extract} cuts the subgraph between two sets of values out
 * of a model.
 *
 * <p>Names: {@link #freshName} returns {@code base} when no value, node, initializer or declared
 * input/output/value_info of the graph (or of its subgraphs) carries it, else the first free {@code
 * base_1}, {@code base_2}, ...; the name is reserved, so two calls never return the same one. Every
 * pass generates names this way, so a pass's names do not depend on which pass wrote the graph.
 *
 * <p>Lifecycle: one editor per graph and per edit session. Changes made to the graph's lists
 * directly (not through the editor) are not seen by {@link #index()}; call {@link #rescan()} after
 * such a change (e.g. after another component rewrote the graph).
 */
public final class GraphEditor {
  private final Graph graph;
  private final Set<String> names = new HashSet<>();
  private GraphIndex index;

  private GraphEditor(Graph graph) {
    this.graph = graph;
    rescan();
  }

  /** An editor of {@code graph}, which it changes in place. */
  public static GraphEditor of(Graph graph) {
    return new GraphEditor(graph);
  }

  /** The edited graph. */
  public Graph graph() {
    return graph;
  }

  /** The def-use index, current with every edit made through this editor. */
  public GraphIndex index() {
    return index;
  }

  /** Rebuilds the index and adds every name now in the graph to the reserved ones. */
  public void rescan() {
    collectNames(graph, names);
    index = GraphIndex.of(graph);
  }

  /** {@code base}, or {@code base_N} (the first N from 1 that is free) when taken; reserves it. */
  public String freshName(String base) {
    String name = base;
    for (int i = 1; names.contains(name); i++) {
      name = base + "_" + i;
    }
    names.add(name);
    return name;
  }

  /** Adds {@code t} as an initializer under its own name (which it reserves). */
  public void putInitializer(Tensor t) {
    names.add(t.name());
    graph.putInitializer(t);
  }

  /** Appends {@code n} to the node list (callers keep the list topologically ordered). */
  public void append(Node n) {
    graph.nodes().add(n);
    added(n);
  }

  /** Inserts {@code n} right after {@code anchor} (by identity). */
  public void insertAfter(Node anchor, Node n) {
    graph.nodes().add(indexOf(anchor) + 1, n);
    added(n);
  }

  /** Inserts {@code n} right before {@code anchor} (by identity). */
  public void insertBefore(Node anchor, Node n) {
    graph.nodes().add(indexOf(anchor), n);
    added(n);
  }

  /** Puts {@code replacement} where {@code old} was (by identity). */
  public void replaceNode(Node old, Node replacement) {
    int at = indexOf(old);
    index.remove(old);
    graph.nodes().set(at, replacement);
    added(replacement);
  }

  /** Removes {@code n} (by identity) from the node list. */
  public void remove(Node n) {
    graph.nodes().remove(indexOf(n));
    index.remove(n);
  }

  /** Sets input {@code i} of {@code n} to {@code value}, padding omitted inputs with "". */
  public void setInput(Node n, int i, String value) {
    while (n.inputs().size() <= i) {
      n.inputs().add("");
    }
    String old = n.inputs().set(i, value);
    if (!old.isEmpty()) {
      index.rewired(n, old, value);
    } else if (!value.isEmpty()) {
      index.rewired(n, "", value);
    }
  }

  /**
   * Makes every consumer of {@code from} that {@code which} accepts read {@code to} instead (all
   * its inputs that read {@code from}).
   *
   * @return the rewired nodes
   */
  public List<Node> rewire(String from, String to, Predicate<Node> which) {
    List<Node> done = new ArrayList<>();
    for (Node c : List.copyOf(index.consumers(from))) {
      if (!which.test(c) || done.stream().anyMatch(d -> d == c)) {
        continue;
      }
      for (int k = 0; k < c.inputs().size(); k++) {
        if (c.input(k).equals(from)) {
          setInput(c, k, to);
        }
      }
      done.add(c);
    }
    return done;
  }

  /**
   * Replaces the constant {@code value} for the nodes in {@code readers} by {@code replacement}
   * (whose own name is ignored): in place when nothing else reads it (an initializer keeps its
   * name, a {@code Constant} node its attribute's metadata); when some other node, a subgraph or a
   * graph output reads it, as a copy named {@code freshName(value + suffix)} that the readers'
   * inputs now point at, the original left to the others.
   *
   * @return the name the readers now read
   */
  public String replaceConstant(
      String value, Tensor replacement, Set<Node> readers, String suffix) {
    if (!index.usedOnlyBy(value, readers)) {
      String name = freshName(value + suffix);
      putInitializer(replacement.withName(name));
      for (Node r : readers) {
        for (int k = 0; k < r.inputs().size(); k++) {
          if (r.input(k).equals(value)) {
            setInput(r, k, name);
          }
        }
      }
      return name;
    }
    if (graph.initializers().containsKey(value)) {
      graph.putInitializer(replacement.withName(value));
      return value;
    }
    Node c =
        index
            .producer(value, "Constant")
            .orElseThrow(() -> new IllegalArgumentException("not a constant: " + value));
    Attribute old = c.attribute("value").orElseThrow();
    c.put(
        new Attribute(
            "value",
            Attribute.Type.TENSOR,
            replacement.withName(old.asTensor().name()),
            old.refAttrName(),
            old.docString(),
            old.preserved()));
    index.remove(c);
    index.add(c);
    return value;
  }

  /**
   * Removes what nothing reads any more, starting from {@code values}: an unread initializer (with
   * its graph-input declaration), or the node producing an unread value when none of its outputs is
   * read, whose inputs are then considered in turn. A value is read when a node, a subgraph or the
   * graph's outputs read it.
   *
   * @return the values no longer defined, in removal order
   */
  public Set<String> removeUnread(Collection<String> values) {
    Set<String> gone = new LinkedHashSet<>();
    Deque<String> work = new ArrayDeque<>(values);
    while (!work.isEmpty()) {
      String v = work.removeFirst();
      if (v.isEmpty() || index.isRead(v)) {
        continue;
      }
      if (graph.initializers().remove(v) != null) {
        graph.inputs().removeIf(in -> in.name().equals(v));
        gone.add(v);
        continue;
      }
      Optional<Node> p = index.producer(v);
      if (p.isPresent() && p.get().outputs().stream().noneMatch(index::isRead)) {
        remove(p.get());
        p.get().outputs().stream().filter(o -> !o.isEmpty()).forEach(gone::add);
        p.get().inputs().forEach(work::addLast);
      }
    }
    return gone;
  }

  private void added(Node n) {
    names.add(n.name());
    names.addAll(n.outputs());
    index.add(n);
  }

  private int indexOf(Node n) {
    List<Node> nodes = graph.nodes();
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i) == n) {
        return i;
      }
    }
    throw new IllegalArgumentException("node not in graph: " + n);
  }

  /** Which graph inputs an {@link #extract extracted} model declares. */
  public enum Feeds {
    /**
     * Every graph input that is not an initializer, so the same batches can be fed, and the
     * initializers declared as inputs that the extracted nodes read.
     */
    ALL,
    /** Only the graph inputs that are not initializers and that the extracted nodes read. */
    READ
  }

  /**
   * The sub-model computing {@code to} when the values {@code from} are given: the nodes (in graph
   * order, shared with {@code model}, not copied) that {@code to} depends on, walking back until a
   * value of {@code from}, a graph input or an initializer. Its inputs are {@code from} (float,
   * shape unknown), then the model's inputs as {@code feeds} says, in the model's order; it holds
   * the initializers the nodes read; its outputs are {@code to} (float, shape unknown); it imports
   * the model's opsets.
   *
   * @return empty when some needed value has no producer (it is neither given nor a graph input,
   *     initializer or node output), or when a needed node holds a subgraph (If/Loop bodies may
   *     read values the walk does not see)
   */
  public static Optional<ModelGraph> extract(
      ModelGraph model, Collection<String> from, Collection<String> to, Feeds feeds) {
    Graph g = model.graph();
    GraphIndex ix = GraphIndex.of(g);
    Set<String> given = new HashSet<>(from);
    Set<String> declared = new HashSet<>();
    g.inputs().forEach(v -> declared.add(v.name()));
    Set<Node> included = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    Set<String> seen = new HashSet<>();
    Set<String> read = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(to);
    while (!todo.isEmpty()) {
      String v = todo.pop();
      if (v.isEmpty() || given.contains(v) || !seen.add(v)) {
        continue;
      }
      if (declared.contains(v) || g.initializers().containsKey(v)) {
        read.add(v);
        continue;
      }
      Optional<Node> p = ix.producer(v);
      if (p.isEmpty() || GraphIndex.hasSubgraph(p.get())) {
        return Optional.empty();
      }
      if (included.add(p.get())) {
        p.get().inputs().forEach(todo::push);
      }
    }
    Graph sub = new Graph(g.name());
    for (Node n : g.nodes()) {
      if (included.contains(n)) {
        sub.nodes().add(n);
      }
    }
    for (Tensor t : g.initializers().values()) {
      if (read.contains(t.name())) {
        sub.putInitializer(t);
      }
    }
    for (String x : from) {
      sub.inputs().add(ValueInfo.tensor(x, dev.compress.api.tensor.DataType.FLOAT, null));
    }
    for (ValueInfo in : g.inputs()) {
      boolean init = g.initializers().containsKey(in.name());
      if (init
          ? feeds == Feeds.ALL && read.contains(in.name())
          : feeds == Feeds.ALL || read.contains(in.name())) {
        sub.inputs().add(in);
      }
    }
    for (String o : to) {
      sub.outputs().add(ValueInfo.tensor(o, dev.compress.api.tensor.DataType.FLOAT, null));
    }
    ModelGraph m = new ModelGraph(model.irVersion(), sub);
    m.opsetImports().putAll(model.opsetImports());
    return Optional.of(m);
  }

  private static void collectNames(Graph g, Set<String> out) {
    out.addAll(g.initializers().keySet());
    g.inputs().forEach(v -> out.add(v.name()));
    g.outputs().forEach(v -> out.add(v.name()));
    g.valueInfo().forEach(v -> out.add(v.name()));
    for (Node n : g.nodes()) {
      out.add(n.name());
      out.addAll(n.inputs());
      out.addAll(n.outputs());
      for (Attribute a : n.attributes().values()) {
        if (a.type() == Attribute.Type.GRAPH) {
          collectNames(a.asGraph(), out);
        } else if (a.type() == Attribute.Type.GRAPHS) {
          a.asGraphs().forEach(sub -> collectNames(sub, out));
        }
      }
    }
  }
}
