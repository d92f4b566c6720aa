package dev.compress.api.layers;

import dev.compress.api.canonical.LayerNormPattern;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer.Kind;
import dev.compress.api.layers.LinearLayer.Normalization;
import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The linear-layer view of a graph: every MatMul, Gemm and Conv (default domain) whose weight is a
 * constant, in graph order, with its context. Passes select and rewrite layers through this view.
 *
 * <p>What counts as a linear layer:
 *
 * <ul>
 *   <li>{@code MatMul(x, W)} with W a rank-2 constant {@code [in, out]} (a constant first operand,
 *       {@code W @ x}, is not a layer in this sense and is skipped);
 *   <li>{@code Gemm(A, B[, C])} with B a rank-2 constant and {@code transA=0}; {@code transB}
 *       decides the layout; {@code alpha}/{@code beta} are left to the node;
 *   <li>{@code Conv(X, W[, B])} with W a constant of rank 3 or more, {@code [out, in/groups,
 *       k...]}.
 * </ul>
 *
 * <p>The view is computed from the graph as it is and not kept in sync: rebuild it after changing
 * the graph. Only the main graph is scanned, not subgraphs of control-flow nodes.
 *
 * <p>Context, computed in one pass over def-use indexes: the bias (Gemm's C, Conv's B, or for a
 * MatMul the Add that is the sole consumer of its output and adds a 1-D constant of length {@code
 * out}); the producer of the input; the other layers reading the same input value; and the
 * normalization that produces the input directly (no other operator between): a {@code
 * LayerNormalization}, {@code SimplifiedLayerNormalization}, {@code SkipLayerNormalization}, {@code
 * SkipSimplifiedLayerNormalization} or {@code RMSNormalization} node (any domain, as after {@link
 * dev.compress.api.canonical.Canonicalizer canonicalization}), or, on a graph that was not
 * canonicalized, the last node (beta Add) of a decomposed layer norm recognized by {@link
 * LayerNormPattern}.
 */
public final class LinearLayers {
  private static final Set<String> NORM_OPS =
      Set.of(
          "LayerNormalization",
          "SimplifiedLayerNormalization",
          "SkipLayerNormalization",
          "SkipSimplifiedLayerNormalization",
          "RMSNormalization");

  private LinearLayers() {}

  /** The linear layers of {@code graph}'s main graph, in graph order. */
  public static List<LinearLayer> of(Graph graph) {
    GraphIndex ix = GraphIndex.of(graph);

    List<Draft> drafts = new ArrayList<>();
    for (Node n : graph.nodes()) {
      if (!n.domain().isEmpty()) {
        continue;
      }
      Draft d =
          switch (n.opType()) {
            case "MatMul" -> matMul(n, ix);
            case "Gemm" -> gemm(n, ix);
            case "Conv" -> conv(n, ix);
            default -> null;
          };
      if (d != null) {
        drafts.add(d);
      }
    }

    Map<String, List<String>> byInput = new LinkedHashMap<>();
    for (Draft d : drafts) {
      byInput.computeIfAbsent(d.node.input(0), k -> new ArrayList<>()).add(d.name);
    }
    Map<String, Optional<Normalization>> normCache = new LinkedHashMap<>();
    List<LinearLayer> out = new ArrayList<>();
    for (Draft d : drafts) {
      String input = d.node.input(0);
      Node producer = ix.producer(input).orElse(null);
      List<String> shared = new ArrayList<>(byInput.get(input));
      shared.remove(d.name);
      Optional<Normalization> norm =
          producer == null
              ? Optional.empty()
              : normCache.computeIfAbsent(
                  input, k -> Optional.ofNullable(normalization(graph, producer)));
      out.add(
          new LinearLayer(
              d.name,
              d.synthesized,
              d.kind,
              d.node,
              d.weight,
              !graph.initializers().containsKey(d.weight),
              d.shape,
              d.layout,
              d.in,
              d.out,
              d.groups,
              Optional.ofNullable(d.bias),
              Optional.ofNullable(d.biasNode),
              input,
              Optional.ofNullable(producer).map(LinearLayers::nameOf),
              d.node.output(0),
              shared,
              norm));
    }
    return out;
  }

  /** Operators that are a linear layer computing in integers (what W8A8 writes). */
  private static final Set<String> INTEGER_OPS =
      Set.of(
          "MatMulInteger",
          "QLinearMatMul",
          "QLinearConv",
          "ConvInteger",
          "com.microsoft::DynamicQuantizeMatMul",
          "com.microsoft::MatMulIntegerToFloat",
          "com.microsoft::QGemm");

  /**
   * The linear operators of {@code graph}'s main graph whose weights earlier passes compressed, in
   * graph order: {@code MatMulNBits}, the integer operators, and MatMul/Gemm/Conv whose weight
   * (input 1) is the output of a {@code DequantizeLinear} of a constant. Together with {@link #of}
   * (the {@link LinearLayer.WeightForm#FLOAT} ones) this is every linear layer a model has, so a
   * later pass can tell a layer it may change from one it must leave.
   */
  public static List<LinearLayer.Compressed> compressed(Graph graph) {
    GraphIndex ix = GraphIndex.of(graph);
    List<LinearLayer.Compressed> out = new ArrayList<>();
    for (Node n : graph.nodes()) {
      LinearLayer.WeightForm form = null;
      if (n.qualifiedOpType().equals("com.microsoft::MatMulNBits")) {
        form = LinearLayer.WeightForm.MATMUL_NBITS;
      } else if (INTEGER_OPS.contains(n.qualifiedOpType())) {
        form = LinearLayer.WeightForm.W8A8;
      } else if (n.domain().isEmpty()
          && (n.opType().equals("MatMul") || n.opType().equals("Gemm") || n.opType().equals("Conv"))
          && n.inputs().size() > 1
          && dequantizedConstant(ix, n.input(1))) {
        form =
            ix.producer(n.input(0), "DequantizeLinear").isPresent()
                ? LinearLayer.WeightForm.W8A8
                : LinearLayer.WeightForm.DEQUANTIZE_LINEAR;
      }
      if (form != null) {
        out.add(new LinearLayer.Compressed(nameOf(n), n, form));
      }
    }
    return out;
  }

  private static boolean dequantizedConstant(GraphIndex ix, String value) {
    return ix.producer(value, "DequantizeLinear")
        .map(dq -> ix.constant(dq.input(0)).isPresent())
        .orElse(false);
  }

  /** The layer with this name, if any. */
  public static Optional<LinearLayer> find(List<LinearLayer> layers, String name) {
    return layers.stream().filter(l -> l.name().equals(name)).findFirst();
  }

  /** A node's name, or the synthesized {@code OpType@firstOutput} when it has none. */
  public static String nameOf(Node n) {
    return n.name().isEmpty() ? n.opType() + "@" + n.output(0) : n.name();
  }

  private static Normalization normalization(Graph graph, Node producer) {
    if (NORM_OPS.contains(producer.opType())) {
      return new Normalization(nameOf(producer), producer.qualifiedOpType(), false);
    }
    if (producer.domain().isEmpty()
        && (producer.opType().equals("Add") || producer.opType().equals("Mul"))
        && LayerNormPattern.matchEndingAt(graph, producer).isPresent()) {
      return new Normalization(nameOf(producer), producer.qualifiedOpType(), true);
    }
    return null;
  }

  /** A layer before its cross-layer context is known. */
  private record Draft(
      Node node,
      String name,
      boolean synthesized,
      Kind kind,
      String weight,
      long[] shape,
      WeightLayout layout,
      long in,
      long out,
      long groups,
      String bias,
      String biasNode) {}

  private static Tensor constant(GraphIndex ix, String value) {
    return ix.constant(value).orElse(null);
  }

  private static Draft matMul(Node n, GraphIndex ix) {
    Tensor w = constant(ix, n.input(1));
    if (w == null || w.rank() != 2 || constant(ix, n.input(0)) != null) {
      return null;
    }
    long in = w.dim(0);
    long out = w.dim(1);
    // Bias: the sole consumer is Add(y, b) with b a constant [out].
    String bias = null;
    String biasNode = null;
    List<Node> cs = ix.consumers(n.output(0));
    if (cs.size() == 1 && !ix.isGraphOutput(n.output(0))) {
      Node add = cs.get(0);
      if (add.domain().isEmpty() && add.opType().equals("Add") && add.inputs().size() == 2) {
        String other = add.input(0).equals(n.output(0)) ? add.input(1) : add.input(0);
        Tensor b = constant(ix, other);
        if (b != null && b.rank() == 1 && b.dim(0) == out && !other.equals(n.output(0))) {
          bias = other;
          biasNode = nameOf(add);
        }
      }
    }
    return new Draft(
        n,
        nameOf(n),
        n.name().isEmpty(),
        Kind.MATMUL,
        n.input(1),
        w.shape(),
        WeightLayout.IN_OUT,
        in,
        out,
        1,
        bias,
        biasNode);
  }

  private static Draft gemm(Node n, GraphIndex ix) {
    Tensor w = constant(ix, n.input(1));
    if (w == null || w.rank() != 2 || n.intAttr("transA", 0) != 0) {
      return null;
    }
    boolean transB = n.intAttr("transB", 0) != 0;
    long out = transB ? w.dim(0) : w.dim(1);
    long in = transB ? w.dim(1) : w.dim(0);
    String c = n.input(2);
    return new Draft(
        n,
        nameOf(n),
        n.name().isEmpty(),
        Kind.GEMM,
        n.input(1),
        w.shape(),
        transB ? WeightLayout.OUT_IN : WeightLayout.IN_OUT,
        in,
        out,
        1,
        c.isEmpty() ? null : c,
        null);
  }

  private static Draft conv(Node n, GraphIndex ix) {
    Tensor w = constant(ix, n.input(1));
    if (w == null || w.rank() < 3) {
      return null;
    }
    long in = 1;
    for (int i = 1; i < w.rank(); i++) {
      in *= w.dim(i);
    }
    String b = n.input(2);
    return new Draft(
        n,
        nameOf(n),
        n.name().isEmpty(),
        Kind.CONV,
        n.input(1),
        w.shape(),
        WeightLayout.OUT_IN,
        in,
        w.dim(0),
        n.intAttr("group", 1),
        b.isEmpty() ? null : b,
        null);
  }
}
