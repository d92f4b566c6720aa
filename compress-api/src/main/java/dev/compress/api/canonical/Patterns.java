package dev.compress.api.canonical;

import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.Node;
import java.util.List;
import java.util.Optional;

/** Small matching helpers shared by the decomposed-operator patterns, over a {@link GraphIndex}. */
final class Patterns {
  private Patterns() {}

  /** True if {@code value} is a one-element constant within {@code tol} of {@code expected}. */
  static boolean isScalar(GraphIndex ix, String value, double expected, double tol) {
    return ix.scalar(value).map(v -> Math.abs(v - expected) <= tol).orElse(false);
  }

  /** True for a Cast node to a floating-point type. */
  static boolean isFloatCast(Node n) {
    return GraphIndex.isOp(n, "Cast")
        && GraphIndex.castTarget(n).map(t -> t.isFloatingPoint()).orElse(false);
  }

  /**
   * Follows {@code value} upward through float Cast nodes that have no other consumer, collecting
   * them into {@code casts}; returns the first value that is not such a Cast's output.
   */
  static String skipCastsUp(GraphIndex ix, String value, List<Node> casts) {
    String v = value;
    for (int guard = 0; guard < 4; guard++) {
      Optional<Node> c = ix.producer(v).filter(Patterns::isFloatCast);
      if (c.isEmpty() || ix.consumers(v).size() != 1 || ix.isObservable(v)) {
        return v;
      }
      casts.add(c.get());
      v = c.get().input(0);
    }
    return v;
  }

  /** The operand of a binary node other than position {@code i}. */
  static String other(Node binary, int i) {
    return binary.input(1 - i);
  }
}
