package dev.compress.api.inspect;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code compress inspect} shows about a model: operator histogram, parameters and bytes by
 * element type, linear layers, inputs and outputs.
 *
 * @param irVersion ONNX IR version
 * @param opsets opset imports by domain ("" is the default ONNX domain)
 * @param producer producer name and version
 * @param nodeCount nodes in the main graph
 * @param subgraphCount subgraphs (If branches, Loop and Scan bodies) at any depth
 * @param subgraphNodeCount nodes inside those subgraphs
 * @param opHistogram node count per (qualified) operator type over the main graph and all subgraphs
 *     ({@code nodeCount + subgraphNodeCount} in all), sorted by name
 * @param byType parameters and bytes per element type, over initializers and Constant tensors
 * @param linearLayers the linear layers (MatMul/Gemm/Conv with constant weights)
 * @param inputs inputs a caller feeds
 * @param outputs graph outputs
 */
public record ModelSummary(
    long irVersion,
    Map<String, Long> opsets,
    String producer,
    int nodeCount,
    int subgraphCount,
    int subgraphNodeCount,
    Map<String, Integer> opHistogram,
    Map<DataType, TypeTotals> byType,
    List<LinearLayer> linearLayers,
    List<ValueInfo> inputs,
    List<ValueInfo> outputs) {

  /**
   * Totals for one element type.
   *
   * @param tensors number of tensors
   * @param elements number of elements (parameters)
   * @param bytes bytes of data
   */
  public record TypeTotals(int tensors, long elements, long bytes) {
    TypeTotals plus(Tensor t) {
      return new TypeTotals(tensors + 1, elements + t.elementCount(), bytes + t.byteSize());
    }
  }

  /** Summarizes {@code model}. */
  public static ModelSummary of(ModelGraph model) {
    Graph g = model.graph();
    Map<String, Integer> hist = new TreeMap<>();
    Map<DataType, TypeTotals> types = new EnumMap<>(DataType.class);
    countNodes(g, hist, types);
    for (Tensor t : g.initializers().values()) {
      types.merge(t.dtype(), new TypeTotals(0, 0, 0).plus(t), ModelSummary::sum);
    }
    return new ModelSummary(
        model.irVersion(),
        Map.copyOf(model.opsetImports()),
        (model.producerName() + " " + model.producerVersion()).trim(),
        g.nodes().size(),
        subgraphs(g),
        g.subgraphNodes().size(),
        hist,
        types,
        LinearLayers.of(g),
        g.feedInputs(),
        List.copyOf(g.outputs()));
  }

  private static void countNodes(
      Graph g, Map<String, Integer> hist, Map<DataType, TypeTotals> types) {
    for (Node n : g.nodes()) {
      hist.merge(n.qualifiedOpType(), 1, Integer::sum);
      for (Attribute a : n.attributes().values()) {
        if (a.type() == Attribute.Type.TENSOR && n.opType().equals("Constant")) {
          Tensor t = a.asTensor();
          types.merge(t.dtype(), new TypeTotals(0, 0, 0).plus(t), ModelSummary::sum);
        } else if (a.type() == Attribute.Type.GRAPH) {
          countNodes(a.asGraph(), hist, types);
        } else if (a.type() == Attribute.Type.GRAPHS) {
          for (Graph sub : a.asGraphs()) {
            countNodes(sub, hist, types);
          }
        }
      }
    }
  }

  private static int subgraphs(Graph g) {
    int n = 0;
    for (Graph sub : g.subgraphs()) {
      n += 1 + subgraphs(sub);
    }
    return n;
  }

  private static TypeTotals sum(TypeTotals a, TypeTotals b) {
    return new TypeTotals(a.tensors + b.tensors, a.elements + b.elements, a.bytes + b.bytes);
  }

  /** Parameters: elements of floating-point tensors (integer shape constants are not counted). */
  public long parameterCount() {
    return byType.entrySet().stream()
        .filter(e -> e.getKey().isFloatingPoint())
        .mapToLong(e -> e.getValue().elements())
        .sum();
  }

  /** Total bytes of tensor data over all element types. */
  public long totalBytes() {
    return byType.values().stream().mapToLong(TypeTotals::bytes).sum();
  }
}
