package dev.compress.pruning.structured;

/**
 * Why a channel trace stopped: the dependency rules either refuse the cut (a norm over the channel
 * axis, a graph output) or cannot follow the structure, or the trace must restart with coarser
 * units (a reshape splits the channels into blocks).
 */
final class TraceRefusal extends Exception {
  private static final long serialVersionUID = 1L;

  /** The kind of stop. */
  enum Kind {
    /** A normalization couples the channels (hidden-size cut): refused by design. */
    COUPLED,
    /** The channels reach a graph output: refused (the model's interface would change). */
    OUTPUT,
    /** An operator or structure the rules cannot follow: named node and op. */
    UNFOLLOWABLE,
    /**
     * The layer's output channels follow its input's (a depthwise Conv): it is pruned as part of
     * the producer's group, not as a root.
     */
    FOLLOWS,
    /** Restart with units {@link #factor} times larger (a reshape splits channels into blocks). */
    REGROUP
  }

  final Kind kind;
  final long factor;

  TraceRefusal(Kind kind, String message) {
    this(kind, message, 1);
  }

  TraceRefusal(Kind kind, String message, long factor) {
    super(message, null, false, false);
    this.kind = kind;
    this.factor = factor;
  }
}
