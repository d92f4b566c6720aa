package dev.compress.api.canonical;

import dev.compress.api.canonical.CanonicalizationReport.Fusion;
import dev.compress.api.canonical.CanonicalizationReport.Kind;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Rewrites the primitive-operator decompositions that exporters emit into single operators, so
 * passes find {@code norm -> {q, k, v}} structure and executors run one kernel:
 *
 * <ul>
 *   <li>decomposed layer normalization ({@link LayerNormPattern}) to {@code LayerNormalization} in
 *       the default ONNX domain, inputs {@code (X, Scale[, B])}, attributes {@code axis} (the first
 *       normalized axis, negative) and {@code epsilon} (read from the graph). ONNX defines this
 *       operator from opset 17; ONNX Runtime also registers it for the default domain at opsets
 *       1-16 (a contrib schema), so models at opset 11-16 keep their opset import and load there
 *       unchanged; but such a model does not conform to the ONNX specification ({@link
 *       dev.compress.api.graph.OpsetCheck}, which the ONNX writer enforces): a pass that writes the
 *       canonical form raises the opset first ({@link dev.compress.api.graph.OpsetUpgrade}, as AWQ
 *       does).
 *   <li>decomposed exact GELU ({@link GeluPattern}) to {@code Gelu} in domain {@code com.microsoft}
 *       (ONNX Runtime's contrib operator), adding the opset import {@code com.microsoft: 1} when it
 *       is missing. This form is used at every opset, also 20+ where ONNX defines its own {@code
 *       Gelu}, so executors have one operator to recognize.
 * </ul>
 *
 * <p>Both forms were verified to load and match the decomposed originals in ONNX Runtime 1.22,
 * raised to opset 17 from exports at opsets 11 and 14 (runtime module, {@code
 * CanonicalizationOrtTest}).
 *
 * <p>Algorithm: index the graph's def-use relations; match every pattern against that snapshot
 * (each anchored at its one distinctive node: the Div of a layer norm, the Erf of a GELU); replace
 * each match by one node placed where the pattern's last node was (all its inputs are defined
 * before that point, so topological order is kept) and producing the same output value; then remove
 * what became dead: starting from the inputs of removed nodes, every initializer and every node
 * (typically Constant and Cast) whose outputs nothing reads any more, transitively. The matchers
 * only accept patterns whose intermediate values are used nowhere else and are not graph outputs,
 * so a fusion never changes any other value. The loop repeats until nothing matches, which also
 * makes the rewrite idempotent: a second call changes nothing.
 *
 * <p>Only the main graph is rewritten; values that subgraphs of control-flow nodes read are treated
 * as observed (never fused away).
 *
 * <p>Fused node names keep the patterns' scope: the longest common prefix of the replaced nodes'
 * names up to its last {@code /}, plus the operator, e.g. {@code /embeddings/LayerNorm/}{@code
 * LayerNormalization}; a suffix {@code _1}, {@code _2}, ... keeps names unique.
 */
public final class Canonicalizer {
  /** Domain of ONNX Runtime's contrib operators. */
  public static final String MS_DOMAIN = "com.microsoft";

  private Canonicalizer() {}

  /**
   * Fuses decomposed layer normalizations and GELUs of {@code model}'s main graph in place.
   *
   * @return what was fused and removed; {@link CanonicalizationReport#changed()} is false when the
   *     model already was canonical
   */
  public static CanonicalizationReport canonicalize(ModelGraph model) {
    Graph g = model.graph();
    SortedMap<String, Integer> before = opHistogram(g);
    int nodesBefore = g.nodes().size();
    int initsBefore = g.initializers().size();
    List<Fusion> fusions = new ArrayList<>();
    for (int round = 0; round < 8; round++) {
      GraphIndex ix = GraphIndex.of(g);
      Set<Node> taken = Collections.newSetFromMap(new IdentityHashMap<>());
      List<Node> removed = new ArrayList<>();
      GraphEditor names = GraphEditor.of(g);
      int n0 = fusions.size();
      for (LayerNormPattern.Match m : LayerNormPattern.findAll(ix)) {
        if (disjoint(m.nodes(), taken)) {
          Node ln = new Node("", "LayerNormalization", "", layerNormInputs(m), List.of(m.output()));
          ln.put(Attribute.of("axis", m.axis()));
          ln.put(Attribute.of("epsilon", m.epsilon()));
          fusions.add(
              replace(g, m.nodes(), m.last(), ln, names, Kind.LAYER_NORMALIZATION, m.input()));
          taken.addAll(m.nodes());
          removed.addAll(m.nodes());
        }
      }
      for (GeluPattern.Match m : GeluPattern.findAll(ix)) {
        if (disjoint(m.nodes(), taken)) {
          Node gelu = new Node("", "Gelu", MS_DOMAIN, List.of(m.input()), List.of(m.output()));
          fusions.add(replace(g, m.nodes(), m.last(), gelu, names, Kind.GELU, m.input()));
          taken.addAll(m.nodes());
          removed.addAll(m.nodes());
          model.opsetImports().putIfAbsent(MS_DOMAIN, 1L);
        }
      }
      if (fusions.size() == n0) {
        break;
      }
      removeDead(g, removed);
    }
    Map<String, Integer> position = new HashMap<>();
    for (int i = 0; i < g.nodes().size(); i++) {
      position.putIfAbsent(g.nodes().get(i).name(), i);
    }
    fusions.sort(Comparator.comparingInt(f -> position.getOrDefault(f.node(), -1)));
    return new CanonicalizationReport(
        fusions,
        nodesBefore - g.nodes().size(),
        initsBefore - g.initializers().size(),
        before,
        opHistogram(g));
  }

  /**
   * Counts of each operator in {@code graph}'s node list ({@code domain::op} for custom domains).
   */
  public static SortedMap<String, Integer> opHistogram(Graph graph) {
    SortedMap<String, Integer> m = new TreeMap<>();
    for (Node n : graph.nodes()) {
      m.merge(n.qualifiedOpType(), 1, Integer::sum);
    }
    return m;
  }

  private static List<String> layerNormInputs(LayerNormPattern.Match m) {
    List<String> in = new ArrayList<>(List.of(m.input(), m.scale()));
    m.bias().ifPresent(in::add);
    return in;
  }

  private static boolean disjoint(List<Node> nodes, Set<Node> taken) {
    for (Node n : nodes) {
      if (taken.contains(n)) {
        return false;
      }
    }
    return true;
  }

  /** Puts {@code fused} where {@code last} was, removes the pattern's nodes, names the new node. */
  private static Fusion replace(
      Graph g,
      List<Node> pattern,
      Node last,
      Node fused,
      GraphEditor names,
      Kind kind,
      String input) {
    String name = names.freshName(scopeOf(pattern) + fused.opType());
    fused.setName(name);
    List<Node> nodes = g.nodes();
    int at = indexOfIdentity(nodes, last);
    nodes.set(at, fused);
    Set<Node> gone = Collections.newSetFromMap(new IdentityHashMap<>());
    gone.addAll(pattern);
    gone.remove(last);
    nodes.removeIf(gone::contains);
    return new Fusion(
        kind, name, pattern.stream().map(Node::name).toList(), input, fused.output(0));
  }

  private static int indexOfIdentity(List<Node> nodes, Node n) {
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i) == n) {
        return i;
      }
    }
    throw new IllegalStateException("node not in graph: " + n);
  }

  /**
   * The common scope of the pattern's node names: their longest common prefix up to and including
   * its last {@code /}; without a {@code /}, the whole common prefix (empty when names differ from
   * the first character or are missing).
   */
  static String scopeOf(List<Node> pattern) {
    String prefix = null;
    for (Node n : pattern) {
      if (n.name().isEmpty()) {
        continue;
      }
      if (prefix == null) {
        prefix = n.name();
      } else {
        int i = 0;
        while (i < prefix.length()
            && i < n.name().length()
            && prefix.charAt(i) == n.name().charAt(i)) {
          i++;
        }
        prefix = prefix.substring(0, i);
      }
    }
    if (prefix == null) {
      return "";
    }
    int slash = prefix.lastIndexOf('/');
    return slash >= 0 ? prefix.substring(0, slash + 1) : prefix;
  }

  /**
   * Removes initializers and nodes made dead by removing {@code removed}: starting from their
   * inputs, anything whose outputs no remaining node, subgraph or graph output reads. Declared
   * value types of values that no longer exist are dropped too.
   */
  private static void removeDead(Graph g, List<Node> removed) {
    GraphEditor ed = GraphEditor.of(g);
    Set<String> goneValues = new HashSet<>();
    List<String> work = new ArrayList<>();
    for (Node n : removed) {
      work.addAll(n.inputs());
      goneValues.addAll(n.outputs());
    }
    goneValues.addAll(ed.removeUnread(work));
    // Values still produced by a node (the fused outputs) keep their declared types.
    g.valueInfo()
        .removeIf(v -> goneValues.contains(v.name()) && ed.index().producer(v.name()).isEmpty());
  }
}
