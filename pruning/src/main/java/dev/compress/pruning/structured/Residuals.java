package dev.compress.pruning.structured;

import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.Node;
import java.util.Optional;

/**
 * The residual stream a group's output is added into: from the sink's output, through its bias
 * {@code Add}, to the first {@code Add} of two computed values (the skip connection). Its energy
 * per token scales the group's unit scores, so that heads and neurons of different layers compare
 * by the share of the hidden state they carry (the norm after the skip connection divides by it).
 */
final class Residuals {
  private Residuals() {}

  /** {node reading the residual sum, the residual value}, when the group has one sink. */
  static Optional<String[]> of(GraphIndex ix, DependencyGroup g) {
    if (g.sinks().size() != 1) {
      return Optional.empty();
    }
    String v = g.sinks().get(0).layer().node().output(0);
    for (int step = 0; step < 3; step++) {
      Optional<Node> c = ix.soleConsumer(v);
      if (c.isEmpty() || !GraphIndex.isOp(c.get(), "Add") || c.get().inputs().size() != 2) {
        return Optional.empty();
      }
      Node add = c.get();
      String other = add.input(0).equals(v) ? add.input(1) : add.input(0);
      v = add.output(0);
      if (ix.constant(other).isEmpty()) {
        return ix.readers(v).stream().findFirst().map(r -> new String[] {r.name(), add.output(0)});
      }
    }
    return Optional.empty();
  }
}
