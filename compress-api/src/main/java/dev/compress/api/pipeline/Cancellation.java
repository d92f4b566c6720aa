package dev.compress.api.pipeline;

import dev.compress.api.pass.ProgressListener;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Stops a running pipeline from another thread: give one to {@link RunOptions#withCancellation} and
 * call {@link #cancel()} (e.g. from a UI's stop button or a shutdown hook). The run stops at the
 * next progress report of the step it is in (passes report once per layer, the evaluation once per
 * measurement), or between steps, and {@link PipelineRunner#run} throws {@link
 * RunCancelledException}; nothing is written and nothing is left behind (the output goes to a
 * staging folder that is deleted), and an existing output directory is untouched.
 *
 * <p>Thread-safe; one token may stop several runs.
 */
public final class Cancellation {
  private static final Cancellation NEVER = new Cancellation(false);

  private final boolean cancellable;
  private final AtomicBoolean cancelled = new AtomicBoolean();

  private Cancellation(boolean cancellable) {
    this.cancellable = cancellable;
  }

  /** A token that stops the runs it is given to once {@link #cancel()} is called. */
  public static Cancellation create() {
    return new Cancellation(true);
  }

  /** A token that never cancels (the default of {@link RunOptions}). */
  public static Cancellation never() {
    return NEVER;
  }

  /** Asks the runs holding this token to stop; returns at once. */
  public void cancel() {
    if (!cancellable) {
      throw new UnsupportedOperationException("Cancellation.never() cannot be cancelled");
    }
    cancelled.set(true);
  }

  /** Whether {@link #cancel()} was called. */
  public boolean isCancelled() {
    return cancelled.get();
  }

  /** {@code listener} that first stops the run when this token is cancelled. */
  ProgressListener guard(ProgressListener listener) {
    if (!cancellable) {
      return listener;
    }
    return new ProgressListener() {
      @Override
      public void start(String pass, int total) {
        stopIfCancelled();
        listener.start(pass, total);
      }

      @Override
      public void start(String task, int total, String unit) {
        stopIfCancelled();
        listener.start(task, total, unit);
      }

      @Override
      public void step(String pass, int done, int total, String item) {
        stopIfCancelled();
        listener.step(pass, done, total, item);
      }

      @Override
      public void finish(String pass) {
        listener.finish(pass);
        stopIfCancelled();
      }
    };
  }

  /** Unwinds the step in progress (unchecked: it travels through progress callbacks). */
  void stopIfCancelled() {
    if (cancelled.get()) {
      throw new Stop();
    }
  }

  /** Thrown inside a step to unwind it; the runner turns it into {@link RunCancelledException}. */
  static final class Stop extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Stop() {
      super("cancelled", null, false, false);
    }
  }
}
