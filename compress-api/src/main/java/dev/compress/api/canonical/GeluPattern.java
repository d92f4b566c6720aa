package dev.compress.api.canonical;

import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.Node;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the exact (erf) GELU that exporters decompose into primitive operators: {@code y = x * 0.5
 * * (1 + erf(x / sqrt(2)))}.
 *
 * <p>The pattern, as {@code torch.onnx} exports {@code nn.GELU()} / {@code F.gelu} at opsets 11-19:
 *
 * <pre>
 *   x ─┬─ Div(x, 1.41421) ── Erf ── Add(·, 1) = e ──┐
 *      └───────────────────────────────── Mul(x, e) ── Mul(·, 0.5) = y
 * </pre>
 *
 * Accepted variations: {@code Mul(x, 0.70710)} instead of the Div; operands of Add and Mul in
 * either order; constants as initializers or Constant nodes; the factor 0.5 applied to any of the
 * three places ({@code (x*e)*0.5}, {@code (x*0.5)*e}, {@code x*(e*0.5)}). Constants are checked
 * numerically: sqrt(2) and 1/sqrt(2) within 1e-3, 1 and 0.5 within 1e-6. Every intermediate value
 * must be used only inside the pattern (not a graph output, not read by a subgraph); {@code x} and
 * {@code y} may have any other consumers. The tanh approximation is a different function and is not
 * matched.
 */
public final class GeluPattern {
  private static final double SQRT2 = Math.sqrt(2.0);
  private static final double IRRATIONAL_TOL = 1e-3;
  private static final double EXACT_TOL = 1e-6;

  /**
   * One matched decomposed GELU.
   *
   * @param last the node producing the output
   * @param nodes every node of the pattern in graph order, {@code last} included (Constant nodes
   *     feeding it are not part of it)
   * @param input the value x
   * @param output the value y
   */
  public record Match(Node last, List<Node> nodes, String input, String output) {
    /** Copies the node list. */
    public Match {
      nodes = List.copyOf(nodes);
    }
  }

  private GeluPattern() {}

  /** Every decomposed exact GELU in {@code graph} (main graph only), in graph order. */
  public static List<Match> findAll(Graph graph) {
    return findAll(GraphIndex.of(graph));
  }

  static List<Match> findAll(GraphIndex ix) {
    List<Match> out = new ArrayList<>();
    for (Node n : ix.graph().nodes()) {
      if (GraphIndex.isOp(n, "Erf")) {
        matchAtErf(ix, n).ifPresent(out::add);
      }
    }
    return out;
  }

  /** Matches the pattern around its Erf node. */
  static Optional<Match> matchAtErf(GraphIndex ix, Node erf) {
    // x / sqrt(2)  or  x * (1/sqrt(2))
    Node scale = ix.producer(erf.input(0)).orElse(null);
    if (scale == null || scale.inputs().size() != 2) {
      return Optional.empty();
    }
    String x;
    if (GraphIndex.isOp(scale, "Div")
        && Patterns.isScalar(ix, scale.input(1), SQRT2, IRRATIONAL_TOL)) {
      x = scale.input(0);
    } else if (GraphIndex.isOp(scale, "Mul")) {
      int c = scalarOperand(ix, scale, 1 / SQRT2, IRRATIONAL_TOL);
      if (c < 0) {
        return Optional.empty();
      }
      x = Patterns.other(scale, c);
    } else {
      return Optional.empty();
    }
    if (ix.constant(x).isPresent()) {
      return Optional.empty();
    }
    // e = erf + 1
    Node add = ix.soleConsumer(erf.output(0)).orElse(null);
    if (add == null
        || !GraphIndex.isOp(add, "Add")
        || add.inputs().size() != 2
        || scalarOperand(ix, add, 1.0, EXACT_TOL) < 0
        || !add.inputs().contains(erf.output(0))) {
      return Optional.empty();
    }
    String e = add.output(0);
    Node m1 = ix.soleConsumer(e).filter(n -> GraphIndex.isOp(n, "Mul")).orElse(null);
    if (m1 == null || m1.inputs().size() != 2 || m1.input(0).equals(m1.input(1))) {
      return Optional.empty();
    }
    String o = m1.input(0).equals(e) ? m1.input(1) : m1.input(0);
    Set<Node> nodes = Collections.newSetFromMap(new IdentityHashMap<>());
    nodes.addAll(List.of(scale, erf, add, m1));
    Node last;
    if (o.equals(x) || Patterns.isScalar(ix, o, 0.5, EXACT_TOL)) {
      // (x * e) * 0.5   or   (e * 0.5) * x
      String want = o.equals(x) ? null : x;
      Node m2 = ix.soleConsumer(m1.output(0)).filter(n -> GraphIndex.isOp(n, "Mul")).orElse(null);
      if (m2 == null || m2.inputs().size() != 2) {
        return Optional.empty();
      }
      int i = m2.input(0).equals(m1.output(0)) ? 1 : 0;
      String rest = m2.input(i);
      boolean ok =
          want == null
              ? Patterns.isScalar(ix, rest, 0.5, EXACT_TOL)
              : rest.equals(want) && !Patterns.other(m2, i).equals(want);
      if (!ok) {
        return Optional.empty();
      }
      nodes.add(m2);
      last = m2;
    } else {
      // (x * 0.5) * e
      Node half = ix.producer(o, "Mul").orElse(null);
      if (half == null || half.inputs().size() != 2) {
        return Optional.empty();
      }
      int c = scalarOperand(ix, half, 0.5, EXACT_TOL);
      if (c < 0 || !Patterns.other(half, c).equals(x)) {
        return Optional.empty();
      }
      nodes.add(half);
      last = m1;
    }
    for (Node n : nodes) {
      if (n != last && !ix.usedOnlyBy(n.output(0), nodes)) {
        return Optional.empty();
      }
    }
    List<Node> ordered = new ArrayList<>();
    for (Node n : ix.graph().nodes()) {
      if (nodes.contains(n)) {
        ordered.add(n);
      }
    }
    return Optional.of(new Match(last, ordered, x, last.output(0)));
  }

  /** Index of the operand of binary {@code n} that is a scalar constant near {@code v}, or -1. */
  private static int scalarOperand(GraphIndex ix, Node n, double v, double tol) {
    for (int i = 0; i < 2; i++) {
      if (Patterns.isScalar(ix, n.input(i), v, tol)) {
        return i;
      }
    }
    return -1;
  }
}
