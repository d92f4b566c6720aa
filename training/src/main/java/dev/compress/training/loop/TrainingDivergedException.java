package dev.compress.training.loop;

import dev.compress.api.CompressionException;

/** The loss or the gradient norm became NaN or infinite; the message names the update. */
public final class TrainingDivergedException extends CompressionException {
  private static final long serialVersionUID = 1L;

  private final long step;

  /** Diverged at update {@code step} (from 1). */
  public TrainingDivergedException(long step, String message) {
    super(message);
    this.step = step;
  }

  /** The update (from 1) whose loss or gradient was not finite. */
  public long step() {
    return step;
  }
}
