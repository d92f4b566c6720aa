package dev.compress.quantization.awq;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Cuts the module an AWQ scale is scored on out of a (canonicalized) graph: every node between the
 * shared input {@code x} of the scaled layers and the module outputs, plus what only depends on the
 * graph's own inputs (the attention-mask arithmetic), as a standalone model whose inputs are {@code
 * x} and the graph inputs it needs. The weights of the scaled layers are additionally declared as
 * inputs, so that one executor can be fed a different fake-quantized weight per alpha (an input
 * that shadows an initializer replaces it).
 */
final class ModuleExtractor {
  private ModuleExtractor() {}

  /**
   * The sub-model computing {@code outputs} from {@code x}, or empty when some output needs a value
   * that neither descends from {@code x} nor from the graph inputs and constants alone (e.g. the
   * residual stream of a pre-norm model), or crosses a control-flow node.
   *
   * @param rank the rank of {@code x}
   * @param shadowed weight initializers to declare as inputs as well
   */
  static Optional<ModelGraph> extract(
      ModelGraph model, String x, int rank, List<String> outputs, Collection<String> shadowed) {
    Graph g = model.graph();
    Map<String, Node> producers = g.producerIndex();
    Set<String> feeds = new LinkedHashSet<>();
    g.feedInputs().forEach(v -> feeds.add(v.name()));
    Set<Node> fromX = Collections.newSetFromMap(new IdentityHashMap<>());
    Set<String> reach = new HashSet<>(Set.of(x));
    Set<String> feedOnly = new HashSet<>(feeds);
    feedOnly.addAll(g.initializers().keySet());
    for (Node n : g.nodes()) {
      boolean dependsOnX = false;
      boolean allFeed = true;
      for (String in : n.inputs()) {
        if (in.isEmpty()) {
          continue;
        }
        dependsOnX |= reach.contains(in);
        allFeed &= feedOnly.contains(in);
      }
      if (dependsOnX) {
        fromX.add(n);
        reach.addAll(n.outputs());
      } else if (allFeed) {
        feedOnly.addAll(n.outputs());
      }
    }
    Set<Node> included = Collections.newSetFromMap(new IdentityHashMap<>());
    Set<String> seen = new HashSet<>();
    Set<String> neededFeeds = new LinkedHashSet<>();
    Deque<String> todo = new ArrayDeque<>(outputs);
    while (!todo.isEmpty()) {
      String v = todo.pop();
      if (v.isEmpty() || v.equals(x) || !seen.add(v) || g.initializers().containsKey(v)) {
        continue;
      }
      if (feeds.contains(v)) {
        neededFeeds.add(v);
        continue;
      }
      Node p = producers.get(v);
      if (p == null || !(fromX.contains(p) || feedOnly.contains(v)) || hasSubgraph(p)) {
        return Optional.empty();
      }
      if (included.add(p)) {
        p.inputs().forEach(todo::push);
      }
    }
    Graph sub = new Graph(g.name() + "_awq_module");
    for (Node n : g.nodes()) {
      if (included.contains(n)) {
        sub.nodes().add(n);
        for (String in : n.inputs()) {
          if (g.initializers().containsKey(in)) {
            sub.putInitializer(g.initializers().get(in));
          }
        }
      }
    }
    List<ValueInfo.Dim> dims = new ArrayList<>();
    for (int i = 0; i < rank; i++) {
      dims.add(ValueInfo.Dim.of("d" + i));
    }
    sub.inputs().add(ValueInfo.tensor(x, DataType.FLOAT, dims));
    for (ValueInfo v : g.inputs()) {
      if (neededFeeds.contains(v.name())) {
        sub.inputs().add(v);
      }
    }
    for (String w : shadowed) {
      if (sub.initializers().containsKey(w)) {
        sub.inputs().add(ValueInfo.tensor(w, DataType.FLOAT, null));
      }
    }
    for (String o : outputs) {
      sub.outputs().add(ValueInfo.tensor(o, DataType.FLOAT, null));
    }
    ModelGraph m = new ModelGraph(model.irVersion(), sub);
    m.opsetImports().putAll(model.opsetImports());
    return Optional.of(m);
  }

  /** Whether the sub-model contains the node (by identity). */
  static boolean contains(ModelGraph sub, Node n) {
    return sub.graph().nodes().stream().anyMatch(m -> m == n);
  }

  /**
   * The input of the first {@code LayerNormalization} (in graph order) downstream of {@code
   * values}: in a transformer, the residual sum that closes the block the values belong to.
   */
  static Optional<String> nextNormInput(Graph g, Collection<String> values) {
    Set<String> reach = new HashSet<>(values);
    for (Node n : g.nodes()) {
      if (n.inputs().stream().anyMatch(reach::contains)) {
        if (n.domain().isEmpty() && n.opType().equals("LayerNormalization")) {
          return Optional.of(n.input(0));
        }
        reach.addAll(n.outputs());
      }
    }
    return Optional.empty();
  }

  private static boolean hasSubgraph(Node n) {
    for (Attribute a : n.attributes().values()) {
      if (a.type() == Attribute.Type.GRAPH || a.type() == Attribute.Type.GRAPHS) {
        return true;
      }
    }
    return false;
  }
}
