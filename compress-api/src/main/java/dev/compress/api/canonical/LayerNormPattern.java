package dev.compress.api.canonical;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Finds layer normalizations that exporters decomposed into primitive operators.
 *
 * <p>The pattern (PyTorch's {@code torch.onnx} export of {@code nn.LayerNorm} at opsets 11-17):
 *
 * <pre>
 *   x ─┬─ ReduceMean(axes) ── Sub(x, mean) = d ─┬─ Pow(d, 2) ─ ReduceMean(axes) ─ Add(·, eps) ─ Sqrt ─┐
 *      └────────────────────────┘               └───────────────────────────── Div(d, ·) ◄──────────┘
 *                                                                                  │
 *                                                          Mul(·, gamma) ── Add(·, beta) = y
 * </pre>
 *
 * Accepted variations: operands of Add and Mul in either order; eps, the exponent, gamma and beta
 * as initializers or Constant nodes; reduction axes as attribute (opset &lt; 18) or constant input
 * (opset 18+), over the trailing {@code m} axes ({@code [-1]}, {@code [-2, -1]}, or non-negative
 * when the input's rank is declared); two identical Sub nodes (older PyTorch); float Cast nodes
 * inside the variance branch (inserted so Pow's operands share a type); float Cast nodes between
 * Div and Mul when the input's element type is the Cast's target, possibly by looking through a
 * Cast that produced the input (mixed-precision exports compute the statistics in f32); no beta
 * (the pattern then ends at Mul).
 *
 * <p>A match requires every intermediate value to be used only inside the pattern (not a graph
 * output, not read by a subgraph), eps to be a finite non-negative scalar, the exponent to be 2
 * within 1e-6, keepdims=1, and gamma (and beta) to be constants of rank {@code m} and equal shape.
 * The output {@code y} may have any consumers.
 */
public final class LayerNormPattern {

  /**
   * One matched decomposed layer normalization.
   *
   * @param last the node producing the normalized output (the beta Add, or the gamma Mul)
   * @param nodes every node of the pattern, {@code last} included (Constant nodes feeding it are
   *     not part of it; they become dead after fusion)
   * @param input the normalized tensor X (before a Cast the pattern looked through, if any)
   * @param scale the gamma constant's value name
   * @param bias the beta constant's value name, absent when the pattern has no beta
   * @param output the output value name
   * @param axis the first normalized axis, negative (counted from the end)
   * @param epsilon the epsilon read from the graph
   */
  public record Match(
      Node last,
      List<Node> nodes,
      String input,
      String scale,
      Optional<String> bias,
      String output,
      long axis,
      float epsilon) {
    /** Copies the node list. */
    public Match {
      nodes = List.copyOf(nodes);
    }
  }

  private LayerNormPattern() {}

  /** Every decomposed layer normalization in {@code graph} (main graph only), in graph order. */
  public static List<Match> findAll(Graph graph) {
    return findAll(GraphIndex.of(graph));
  }

  static List<Match> findAll(GraphIndex ix) {
    List<Match> out = new ArrayList<>();
    for (Node n : ix.graph().nodes()) {
      if (GraphIndex.isOp(n, "Div")) {
        matchAtDiv(ix, n).ifPresent(out::add);
      }
    }
    return out;
  }

  /**
   * The decomposed layer normalization whose output is produced by {@code last} (its beta Add, or
   * its gamma Mul when it has no beta), if there is one.
   */
  public static Optional<Match> matchEndingAt(Graph graph, Node last) {
    if (!GraphIndex.isOp(last, "Add") && !GraphIndex.isOp(last, "Mul")) {
      return Optional.empty();
    }
    GraphIndex ix = GraphIndex.of(graph);
    List<Node> mulCandidates = new ArrayList<>();
    if (GraphIndex.isOp(last, "Add")) {
      for (String in : last.inputs()) {
        ix.producer(in, "Mul").ifPresent(mulCandidates::add);
      }
    } else {
      mulCandidates.add(last);
    }
    for (Node mul : mulCandidates) {
      for (String in : mul.inputs()) {
        String v = Patterns.skipCastsUp(ix, in, new ArrayList<>());
        Optional<Match> m = ix.producer(v, "Div").flatMap(div -> matchAtDiv(ix, div));
        if (m.isPresent() && m.get().last() == last) {
          return m;
        }
      }
    }
    return Optional.empty();
  }

  /** Matches the pattern around its Div node. */
  static Optional<Match> matchAtDiv(GraphIndex ix, Node div) {
    if (!GraphIndex.isOp(div, "Div") || div.inputs().size() != 2) {
      return Optional.empty();
    }
    Set<Node> nodes = Collections.newSetFromMap(new IdentityHashMap<>());
    nodes.add(div);

    // Numerator: d = Sub(x, mean), mean = ReduceMean(x).
    Node sub = ix.producer(div.input(0), "Sub").orElse(null);
    if (sub == null || sub.inputs().size() != 2) {
      return Optional.empty();
    }
    String x = sub.input(0);
    Node rm1 = ix.producer(sub.input(1), "ReduceMean").orElse(null);
    if (rm1 == null || !rm1.input(0).equals(x)) {
      return Optional.empty();
    }
    long[] axes = reduceAxes(ix, rm1);
    if (axes == null) {
      return Optional.empty();
    }
    nodes.add(sub);
    nodes.add(rm1);

    // Denominator: Sqrt(Add(ReduceMean(Pow(d, 2)), eps)), with optional float Casts between.
    List<Node> casts = new ArrayList<>();
    Node sqrt = ix.producer(Patterns.skipCastsUp(ix, div.input(1), casts), "Sqrt").orElse(null);
    if (sqrt == null) {
      return Optional.empty();
    }
    Node addEps = ix.producer(Patterns.skipCastsUp(ix, sqrt.input(0), casts), "Add").orElse(null);
    if (addEps == null || addEps.inputs().size() != 2) {
      return Optional.empty();
    }
    Node rm2 = null;
    double eps = Double.NaN;
    for (int i = 0; i < 2 && rm2 == null; i++) {
      Optional<Double> e = ix.scalar(addEps.input(i));
      if (e.isPresent()) {
        List<Node> c = new ArrayList<>();
        Node r =
            ix.producer(Patterns.skipCastsUp(ix, Patterns.other(addEps, i), c), "ReduceMean")
                .orElse(null);
        if (r != null) {
          rm2 = r;
          eps = e.get();
          casts.addAll(c);
        }
      }
    }
    if (rm2 == null || !(eps >= 0) || Double.isInfinite(eps)) {
      return Optional.empty();
    }
    if (!Arrays.equals(axes, reduceAxes(ix, rm2))) {
      return Optional.empty();
    }
    Node pow = ix.producer(Patterns.skipCastsUp(ix, rm2.input(0), casts), "Pow").orElse(null);
    if (pow == null || !Patterns.isScalar(ix, pow.input(1), 2.0, 1e-6)) {
      return Optional.empty();
    }
    Node sub2 = ix.producer(Patterns.skipCastsUp(ix, pow.input(0), casts), "Sub").orElse(null);
    if (sub2 == null || !(sub2 == sub || sub2.inputs().equals(sub.inputs()))) {
      return Optional.empty();
    }
    nodes.addAll(List.of(sqrt, addEps, rm2, pow, sub2));
    nodes.addAll(casts);

    // Downward: Div -> [Cast] -> Mul(gamma) -> [Add(beta)].
    List<Node> mainCasts = new ArrayList<>();
    String cur = div.output(0);
    Node next = ix.soleConsumer(cur).orElse(null);
    while (next != null && Patterns.isFloatCast(next) && mainCasts.size() < 2) {
      mainCasts.add(next);
      cur = next.output(0);
      next = ix.soleConsumer(cur).orElse(null);
    }
    if (next == null || !GraphIndex.isOp(next, "Mul") || next.inputs().size() != 2) {
      return Optional.empty();
    }
    Node mul = next;
    int gi = constantOperand(ix, mul, cur);
    if (gi < 0) {
      return Optional.empty();
    }
    String gamma = mul.input(gi);
    Tensor gammaT = ix.constant(gamma).orElseThrow();
    int m = (int) -axes[0];
    if (gammaT.rank() != m || gammaT.elementCount() == 0) {
      return Optional.empty();
    }
    nodes.add(mul);
    nodes.addAll(mainCasts);
    Node last = mul;
    String beta = null;
    Node add = ix.soleConsumer(mul.output(0)).orElse(null);
    if (add != null && GraphIndex.isOp(add, "Add") && add.inputs().size() == 2) {
      int bi = constantOperand(ix, add, mul.output(0));
      if (bi >= 0
          && Arrays.equals(ix.constant(add.input(bi)).orElseThrow().shape(), gammaT.shape())) {
        beta = add.input(bi);
        last = add;
        nodes.add(add);
      }
    }

    // Element types: with a Cast on the main path the output takes the Cast's type, so the fused
    // node's input must already have it (directly, or before a Cast that produced x).
    String input = x;
    if (!mainCasts.isEmpty()) {
      DataType target = GraphIndex.castTarget(mainCasts.get(mainCasts.size() - 1)).orElseThrow();
      if (ix.dtype(x).filter(t -> t == target).isEmpty()) {
        Node rootCast = ix.producer(x).filter(Patterns::isFloatCast).orElse(null);
        if (rootCast == null || ix.dtype(rootCast.input(0)).filter(t -> t == target).isEmpty()) {
          return Optional.empty();
        }
        input = rootCast.input(0);
      }
    }

    // Exclusivity: no value inside the pattern is observed from outside it.
    for (Node n : nodes) {
      if (n == last) {
        continue;
      }
      for (String o : n.outputs()) {
        if (!o.isEmpty() && !ix.usedOnlyBy(o, nodes)) {
          return Optional.empty();
        }
      }
    }
    List<Node> ordered = new ArrayList<>();
    for (Node n : ix.graph().nodes()) {
      if (nodes.contains(n)) {
        ordered.add(n);
      }
    }
    return Optional.of(
        new Match(
            last,
            ordered,
            input,
            gamma,
            Optional.ofNullable(beta),
            last.output(0),
            axes[0],
            (float) eps));
  }

  /**
   * Index of the operand of binary node {@code n} that is a constant while the other is {@code
   * value}, or -1.
   */
  private static int constantOperand(GraphIndex ix, Node n, String value) {
    for (int i = 0; i < 2; i++) {
      if (Patterns.other(n, i).equals(value)
          && !n.input(i).equals(value)
          && ix.constant(n.input(i)).isPresent()) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The axes a ReduceMean reduces, as sorted negative numbers {@code [-m, ..., -1]}, or null when
   * they are not a trailing run, not constant, keepdims is 0, or non-negative axes meet an input of
   * undeclared rank.
   */
  private static long[] reduceAxes(GraphIndex ix, Node rm) {
    if (rm.intAttr("keepdims", 1) != 1) {
      return null;
    }
    long[] axes;
    Attribute a = rm.attributes().get("axes");
    if (a != null) {
      if (a.type() != Attribute.Type.INTS) {
        return null;
      }
      axes = a.asLongs();
    } else {
      Optional<Tensor> t = ix.constant(rm.input(1));
      if (t.isEmpty() || t.get().dtype() != DataType.INT64) {
        return null;
      }
      axes = new long[(int) t.get().elementCount()];
      t.get().data().asLongBuffer().get(axes);
    }
    if (axes.length == 0) {
      return null;
    }
    axes = axes.clone();
    if (Arrays.stream(axes).anyMatch(v -> v >= 0)) {
      int rank = declaredRank(ix, rm.input(0));
      if (rank < 0) {
        return null;
      }
      for (int i = 0; i < axes.length; i++) {
        axes[i] = axes[i] >= 0 ? axes[i] - rank : axes[i];
      }
    }
    Arrays.sort(axes);
    for (int i = 0; i < axes.length; i++) {
      if (axes[i] != i - axes.length) {
        return null;
      }
    }
    return axes;
  }

  /** The rank of {@code value} if declared (graph input, output or value_info), else -1. */
  private static int declaredRank(GraphIndex ix, String value) {
    Graph g = ix.graph();
    for (List<ValueInfo> l : List.of(g.inputs(), g.valueInfo(), g.outputs())) {
      for (ValueInfo v : l) {
        if (v.name().equals(value) && v.shape() != null) {
          return v.shape().size();
        }
      }
    }
    return -1;
  }
}
