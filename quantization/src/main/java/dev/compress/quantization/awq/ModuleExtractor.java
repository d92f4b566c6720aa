package dev.compress.quantization.awq;

import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
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
    Optional<ModelGraph> cut =
        GraphEditor.extract(model, List.of(x), outputs, GraphEditor.Feeds.READ);
    if (cut.isEmpty()) {
      return cut;
    }
    Graph sub = cut.get().graph();
    sub.setName(model.graph().name() + "_awq_module");
    List<ValueInfo.Dim> dims = new ArrayList<>();
    for (int i = 0; i < rank; i++) {
      dims.add(ValueInfo.Dim.of("d" + i));
    }
    sub.inputs().set(0, ValueInfo.tensor(x, DataType.FLOAT, dims));
    for (String w : shadowed) {
      if (sub.initializers().containsKey(w)) {
        sub.inputs().add(ValueInfo.tensor(w, DataType.FLOAT, null));
      }
    }
    return cut;
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
}
