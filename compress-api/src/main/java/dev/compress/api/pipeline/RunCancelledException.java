package dev.compress.api.pipeline;

import dev.compress.api.CompressionException;

/**
 * A run stopped through its {@link Cancellation}: nothing was written, the staging folder is gone
 * and an existing output directory is as it was.
 */
public class RunCancelledException extends CompressionException {
  private static final long serialVersionUID = 1L;

  private final String step;

  /** A run cancelled while {@code step} (e.g. {@code applying passes[1] (gptq)}) was running. */
  public RunCancelledException(String step) {
    super("run cancelled while " + step + "; nothing was written");
    this.step = step;
  }

  /** The step that was running, e.g. {@code applying passes[1] (gptq)}. */
  public String step() {
    return step;
  }
}
