package dev.compress.runtime.djl;

import dev.compress.api.graph.Node;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/** Kernel factories by qualified operator type ({@code Op} or {@code domain::Op}). */
final class OpRegistry {
  private static final Map<String, KernelFactory> FACTORIES = new TreeMap<>();

  static {
    MathOps.register();
    ShapeOps.register();
    NnOps.register();
    QuantOps.register();
  }

  private OpRegistry() {}

  /** Registers {@code factory} under {@code qualifiedOp} ({@code Op} or {@code domain::Op}). */
  static void register(String qualifiedOp, KernelFactory factory) {
    if (FACTORIES.put(qualifiedOp, factory) != null) {
      throw new IllegalStateException("operator registered twice: " + qualifiedOp);
    }
  }

  /** The factory for the node's operator, if there is one. */
  static Optional<KernelFactory> find(Node node) {
    return Optional.ofNullable(FACTORIES.get(node.qualifiedOpType()));
  }

  /** Every supported qualified operator type, sorted. */
  static Set<String> names() {
    return Collections.unmodifiableSet(FACTORIES.keySet());
  }
}
