package dev.compress.api.pass;

/**
 * Receives progress of a running pass, e.g. to draw a progress bar. Calls come from the thread
 * running the pass.
 */
public interface ProgressListener {
  /** Ignores everything. */
  ProgressListener NONE = new ProgressListener() {};

  /** A pass starts working on {@code total} units (layers). */
  default void start(String pass, int total) {}

  /**
   * A task starts working on {@code total} units of another kind, e.g. the evaluation's {@code
   * steps}; by default the same as {@link #start(String, int)}.
   */
  default void start(String task, int total, String unit) {
    start(task, total);
  }

  /** {@code done} of {@code total} units are finished; {@code item} is the last one. */
  default void step(String pass, int done, int total, String item) {}

  /** The pass finished. */
  default void finish(String pass) {}
}
