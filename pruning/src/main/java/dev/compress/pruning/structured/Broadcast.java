package dev.compress.pruning.structured;

import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.Tensor;
import java.util.Optional;
import java.util.Set;

/**
 * Static rank and size-1 facts about a value, found without shape inference by walking back through
 * the few operators that build broadcast operands (attention masks): {@code Unsqueeze}, {@code
 * Cast}, element-wise arithmetic, constants and declared graph inputs.
 */
final class Broadcast {
  private static final Set<String> ELEMENTWISE =
      Set.of("Cast", "Add", "Sub", "Mul", "Div", "Neg", "Not", "Equal", "Where", "Identity");

  /** Operators whose output has the rank of their first input. */
  private static final Set<String> SAME_RANK =
      Set.of("Slice", "Softmax", "Relu", "Neg", "Sqrt", "Exp", "Tanh", "Sigmoid");

  private Broadcast() {}

  /** The rank of {@code v}, or -1 when it is not known this way. */
  static int rank(GraphIndex ix, String v) {
    return rank(ix, v, 0);
  }

  private static int rank(GraphIndex ix, String v, int depth) {
    if (depth > 32) {
      return -1;
    }
    Optional<Tensor> c = ix.constant(v);
    if (c.isPresent()) {
      return c.get().rank();
    }
    for (ValueInfo in : ix.graph().inputs()) {
      if (in.name().equals(v) && in.shape() != null) {
        return in.shape().size();
      }
    }
    Optional<Node> p = ix.producer(v);
    if (p.isEmpty()) {
      return -1;
    }
    Node n = p.get();
    if (GraphIndex.isOp(n, "Unsqueeze")) {
      long[] axes = unsqueezeAxes(ix, n);
      int r = rank(ix, n.input(0), depth + 1);
      return axes == null || r < 0 ? -1 : r + axes.length;
    }
    if (n.domain().isEmpty() && SAME_RANK.contains(n.opType())) {
      return rank(ix, n.input(0), depth + 1);
    }
    if (n.domain().isEmpty() && ELEMENTWISE.contains(n.opType())) {
      int r = -1;
      for (String i : n.inputs()) {
        int ri = i.isEmpty() ? -1 : rank(ix, i, depth + 1);
        if (ri < 0) {
          return -1;
        }
        r = Math.max(r, ri);
      }
      return r;
    }
    return -1;
  }

  /** True if {@code v}'s axis {@code axis} (negative) provably has size 1 (or is absent). */
  static boolean isOne(GraphIndex ix, String v, int axis) {
    return isOne(ix, v, axis, 0);
  }

  private static boolean isOne(GraphIndex ix, String v, int axis, int depth) {
    if (depth > 32) {
      return false;
    }
    int rank = rank(ix, v, depth + 1);
    if (rank >= 0 && rank + axis < 0) {
      return true; // the axis is absent: broadcast
    }
    Optional<Tensor> c = ix.constant(v);
    if (c.isPresent()) {
      int at = c.get().rank() + axis;
      return at < 0 || c.get().dim(at) == 1;
    }
    for (ValueInfo in : ix.graph().inputs()) {
      if (in.name().equals(v) && in.shape() != null) {
        int at = in.shape().size() + axis;
        return at < 0 || in.shape().get(at).value() == 1;
      }
    }
    Optional<Node> p = ix.producer(v);
    if (p.isEmpty()) {
      return false;
    }
    Node n = p.get();
    if (GraphIndex.isOp(n, "Unsqueeze")) {
      long[] axes = unsqueezeAxes(ix, n);
      int rin = rank(ix, n.input(0), depth + 1);
      if (axes == null || rin < 0) {
        return false;
      }
      int rout = rin + axes.length;
      int pos = rout + axis;
      int before = 0;
      for (long a : axes) {
        long pa = a < 0 ? a + rout : a;
        if (pa == pos) {
          return true;
        }
        if (pa < pos) {
          before++;
        }
      }
      return isOne(ix, n.input(0), pos - before - rin, depth + 1);
    }
    if (n.domain().isEmpty() && ELEMENTWISE.contains(n.opType())) {
      for (String i : n.inputs()) {
        if (i.isEmpty()) {
          continue;
        }
        int r = rank(ix, i, depth + 1);
        if (!(r >= 0 && r + axis < 0) && !isOne(ix, i, axis, depth + 1)) {
          return false;
        }
      }
      return true;
    }
    return false;
  }

  private static long[] unsqueezeAxes(GraphIndex ix, Node n) {
    long[] axes = n.intsAttr("axes", null);
    if (axes == null && n.inputs().size() > 1) {
      axes = ix.constant(n.input(1)).map(Tensor::toLongArray).orElse(null);
    }
    return axes;
  }
}
