package dev.compress.distillation.layerdrop;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.ResidualChain;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.api.tensor.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Layer dropping: a student made of some of the teacher's transformer blocks, initialised with
 * their weights (Sanh et al. 2019, "DistilBERT, a distilled version of BERT": every other layer;
 * Reimers and Gurevych's sentence-transformers layer-reduction recipe: evenly spread layers, then
 * distillation on the teacher's embeddings).
 *
 * <p>The blocks form a chain on the residual stream ({@link ResidualChain}). Keeping blocks {@code
 * K}: each kept block reads the hidden state handed on by the previous kept block (the first kept
 * one the embeddings' output), what read the last block's output reads the last kept block's; the
 * dropped blocks' nodes are removed, and with them every initializer and constant only they read,
 * so the file, the parameter count and the run time shrink. Graph inputs and outputs keep their
 * names (the last kept block's output takes the name of a graph output it replaces). The kept
 * blocks keep their node names ({@code /encoder/layer.4/...} stays {@code layer.4}).
 *
 * <p>Everything is checked before the graph changes: indices against the model's block count (the
 * error names {@code keep}), and the chain itself (a block the pass cannot cut out is named with
 * the node that ties it to the rest).
 *
 * <p>Report: {@code layersTouched} = the removed linear layers; bytes = all weights before and
 * after; metrics {@code blocks_before}, {@code blocks_after}, {@code parameters_before}, {@code
 * parameters_after}, {@code kept/BLOCK_ID} = 1 for each kept block.
 */
public final class LayerDropPass implements Pass<LayerDropConfig>, PassValidation {
  private final LayerDropConfig config;

  /** A pass for a validated config. */
  public LayerDropPass(LayerDropConfig config) {
    this.config = config;
  }

  @Override
  public LayerDropConfig config() {
    return config;
  }

  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    try {
      config.resolve(ResidualChain.of(model.graph(), config.blockPattern()).blocks().size());
      return List.of();
    } catch (InvalidConfigException e) {
      return e.problems();
    } catch (CompressionException e) {
      return List.of(e.getMessage());
    }
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    Graph graph = model.graph();
    ResidualChain chain = ResidualChain.of(graph, config.blockPattern());
    List<ResidualChain.Block> blocks = chain.blocks();
    List<Integer> kept;
    try {
      kept = config.resolve(blocks.size());
    } catch (InvalidConfigException e) {
      throw new ConfigException(e.problems());
    }
    long paramsBefore = parameters(graph);
    long bytesBefore = weightBytes(graph);
    List<String> removedLayers = new ArrayList<>();
    Set<Node> dropped = new HashSet<>(); // identity is fine: Node does not override equals
    for (int b = 0; b < blocks.size(); b++) {
      if (!kept.contains(b)) {
        dropped.addAll(blocks.get(b).nodes());
      }
    }
    for (LinearLayer l : dev.compress.api.layers.LinearLayers.of(graph)) {
      if (dropped.contains(l.node())) {
        removedLayers.add(l.name());
      }
    }

    // Everything is known; now change the graph.
    GraphEditor ed = GraphEditor.of(graph);
    String hidden = blocks.get(0).input(); // what the next kept block reads
    for (int b = 0; b < blocks.size(); b++) {
      ResidualChain.Block block = blocks.get(b);
      if (!kept.contains(b)) {
        continue;
      }
      if (block.input() != null && !block.input().equals(hidden)) {
        Set<Node> mine = new HashSet<>(block.nodes());
        ed.rewire(block.input(), hidden, mine::contains);
      }
      hidden = block.output();
    }
    ResidualChain.Block last = blocks.get(blocks.size() - 1);
    String lastOut = last.output();
    boolean lastDropped = !kept.contains(blocks.size() - 1);
    if (lastDropped) {
      Set<Node> lastNodes = new HashSet<>(last.nodes());
      ed.rewire(lastOut, hidden, n -> !lastNodes.contains(n));
    }
    Set<String> reads = new LinkedHashSet<>();
    List<Node> order = new ArrayList<>(graph.nodes());
    for (int i = order.size() - 1; i >= 0; i--) {
      Node n = order.get(i);
      if (dropped.contains(n)) {
        ed.remove(n);
        reads.addAll(n.inputs());
      }
    }
    Set<String> gone = new HashSet<>();
    if (lastDropped && ed.index().isGraphOutput(lastOut)) {
      // before removing what nothing reads: until renamed, the last kept output looks unread
      renameToGraphOutput(ed, hidden, lastOut);
      gone.add(hidden);
    }
    gone.addAll(ed.removeUnread(reads));
    dropped.forEach(n -> gone.addAll(n.outputs()));
    gone.remove(lastOut);
    graph.valueInfo().removeIf(v -> gone.contains(v.name()));

    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("blocks_before", (double) blocks.size());
    metrics.put("blocks_after", (double) kept.size());
    metrics.put("parameters_before", (double) paramsBefore);
    metrics.put("parameters_after", (double) parameters(graph));
    for (int b : kept) {
      metrics.put("kept/" + blocks.get(b).id(), 1.0);
    }
    return new PassReport(
        LayerDropProvider.TYPE,
        removedLayers,
        List.of(),
        bytesBefore,
        weightBytes(graph),
        metrics,
        Duration.ofNanos(System.nanoTime() - start));
  }

  /**
   * Makes {@code value} appear under the graph output name {@code output}: its producer writes
   * {@code output} and its readers read that; a graph input (no producer) or a value that is itself
   * a graph output goes through an {@code Identity} node.
   */
  private static void renameToGraphOutput(GraphEditor ed, String value, String output) {
    GraphIndex ix = ed.index();
    Optional<Node> p = ix.producer(value);
    if (p.isEmpty() || ix.isGraphOutput(value)) {
      Node id = Node.of(ed.freshName(output + "/Identity"), "Identity", List.of(value), List.of());
      id.outputs().add(output);
      if (p.isEmpty()) {
        ed.insertBefore(ed.graph().nodes().get(0), id);
      } else {
        ed.insertAfter(p.get(), id);
      }
      return;
    }
    Node renamed = p.get().copy();
    for (int k = 0; k < renamed.outputs().size(); k++) {
      if (renamed.output(k).equals(value)) {
        renamed.outputs().set(k, output);
      }
    }
    ed.replaceNode(p.get(), renamed);
    ed.rewire(value, output, n -> true);
  }

  /** Elements of every initializer and Constant-node tensor. */
  static long parameters(Graph graph) {
    long n = 0;
    for (Tensor t : graph.initializers().values()) {
      n += t.elementCount();
    }
    for (Node node : graph.nodes()) {
      if (GraphIndex.isOp(node, "Constant")) {
        n +=
            node.attribute("value")
                .filter(a -> a.type() == Attribute.Type.TENSOR)
                .map(a -> a.asTensor().elementCount())
                .orElse(0L);
      }
    }
    return n;
  }

  /** Bytes of every initializer. */
  static long weightBytes(Graph graph) {
    long n = 0;
    for (Tensor t : graph.initializers().values()) {
      n += t.byteSize();
    }
    return n;
  }
}
