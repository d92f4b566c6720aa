package dev.compress.calibration.blocks;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Slices of one model's node list for block-by-block execution: the nodes of an index range that
 * given values or captured nodes depend on, fed with the values computed before the range. Nodes
 * computed from constants alone (Constant nodes, shape arithmetic on initializers) are copied into
 * every slice that reads them rather than fed, so each slice sees the same constants as the whole
 * model. Graphs with subgraphs (If/Loop bodies may read outer values) are not sliced.
 */
final class GraphSlices {
  private final ModelGraph model;
  private final List<Node> nodes;
  private final boolean[] constant; // node computed from constants only
  private final Map<String, ValueInfo> graphInputs = new HashMap<>();

  GraphSlices(ModelGraph model) {
    this.model = model;
    Graph g = model.graph();
    this.nodes = List.copyOf(g.nodes());
    g.inputs().forEach(v -> graphInputs.put(v.name(), v));
    constant = new boolean[nodes.size()];
    Set<String> constValues = new HashSet<>(g.initializers().keySet());
    for (int i = 0; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      boolean c = !hasSubgraph(n);
      for (String in : n.inputs()) {
        c &= in.isEmpty() || (constValues.contains(in) && !graphInputs.containsKey(in));
      }
      constant[i] = c;
      if (c) {
        constValues.addAll(n.outputs());
      }
    }
  }

  /** Whether the model has control-flow subgraphs (then it is run whole, never sliced). */
  static boolean hasSubgraphs(ModelGraph model) {
    return model.graph().nodes().stream().anyMatch(GraphSlices::hasSubgraph);
  }

  private static boolean hasSubgraph(Node n) {
    for (Attribute a : n.attributes().values()) {
      if (a.type() == Attribute.Type.GRAPH || a.type() == Attribute.Type.GRAPHS) {
        return true;
      }
    }
    return false;
  }

  int size() {
    return nodes.size();
  }

  /** The position of {@code node} (by identity) in graph order. */
  int indexOf(Node node) {
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i) == node) {
        return i;
      }
    }
    throw new IllegalArgumentException("node " + node.name() + " is not in the graph");
  }

  /**
   * The non-constant values read by the nodes at {@code boundary} or later that the captured nodes
   * depend on and that are produced before {@code boundary} (or are graph inputs): what must be
   * cached to run the rest of the graph from {@code boundary}.
   */
  Set<String> liveAt(int boundary, Set<String> captureNodes) {
    Set<String> needed = new LinkedHashSet<>();
    Set<String> producedLater = new HashSet<>();
    Set<String> live = new LinkedHashSet<>();
    for (int i = nodes.size() - 1; i >= boundary; i--) {
      Node n = nodes.get(i);
      producedLater.addAll(n.outputs());
      if (captureNodes.contains(n.name()) || n.outputs().stream().anyMatch(needed::contains)) {
        needed.addAll(n.inputs());
      }
    }
    Map<String, Tensor> inits = model.graph().initializers();
    Set<String> constOutputs = new HashSet<>();
    for (int i = 0; i < boundary; i++) {
      if (constant[i]) {
        constOutputs.addAll(nodes.get(i).outputs());
      }
    }
    for (String v : needed) {
      if (!v.isEmpty()
          && !producedLater.contains(v)
          && !inits.containsKey(v)
          && !constOutputs.contains(v)) {
        live.add(v);
      }
    }
    return live;
  }

  /**
   * The nodes of {@code [from, to)} that {@code wanted} values or the inputs of {@code
   * captureNodes} depend on, plus the constant-only nodes before {@code from} they read; its inputs
   * are the other values they read (typed after {@code sample}, a cached value of each, or the
   * graph's own declaration for graph inputs), its outputs the wanted values it produces and each
   * captured node's first output. The initializers are the model's current ones.
   */
  ModelGraph slice(
      int from, int to, Set<String> wanted, Set<String> captureNodes, Map<String, Tensor> sample) {
    Set<String> needed = new LinkedHashSet<>(wanted);
    Set<String> read = new LinkedHashSet<>();
    boolean[] keep = new boolean[nodes.size()];
    Set<String> produced = new HashSet<>();
    for (int i = to - 1; i >= 0; i--) {
      if (i < from && !constant[i]) {
        continue;
      }
      Node n = nodes.get(i);
      if (captureNodes.contains(n.name()) || n.outputs().stream().anyMatch(needed::contains)) {
        keep[i] = true;
        needed.addAll(n.inputs());
        read.addAll(n.inputs());
        produced.addAll(n.outputs());
      }
    }
    Graph g = model.graph();
    Graph t = new Graph(g.name());
    List<ValueInfo> outputs = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (keep[i]) {
        Node n = nodes.get(i);
        t.nodes().add(n);
        if (captureNodes.contains(n.name())) {
          outputs.add(ValueInfo.tensor(n.output(0), DataType.FLOAT, null));
        }
        for (String o : n.outputs()) {
          if (wanted.contains(o)) {
            // the interpreter reports each output's own type; the declaration is a placeholder
            outputs.add(ValueInfo.tensor(o, DataType.FLOAT, null));
          }
        }
      }
    }
    for (Tensor init : g.initializers().values()) {
      if (read.contains(init.name())) {
        t.putInitializer(init);
      }
    }
    for (String v : read) {
      if (v.isEmpty() || produced.contains(v) || g.initializers().containsKey(v)) {
        continue;
      }
      ValueInfo declared = graphInputs.get(v);
      if (declared != null) {
        t.inputs().add(declared);
      } else {
        Tensor s = sample.get(v);
        if (s == null) {
          throw new IllegalStateException("value '" + v + "' is read but neither cached nor fed");
        }
        t.inputs().add(ValueInfo.tensor(v, s.dtype(), null));
      }
    }
    t.outputs().addAll(outputs);
    ModelGraph m = new ModelGraph(model.irVersion(), t);
    m.opsetImports().putAll(model.opsetImports());
    return m;
  }
}
