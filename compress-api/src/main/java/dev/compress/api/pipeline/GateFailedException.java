package dev.compress.api.pipeline;

import dev.compress.api.CompressionException;
import java.util.List;

/**
 * An evaluation gate of the pipeline's {@code evaluate} block failed. Thrown after the outputs
 * (model, manifest, report) were written, so the numbers can be inspected; the CLI exits with 4.
 */
public class GateFailedException extends CompressionException {
  private static final long serialVersionUID = 1L;

  private final List<String> failures;
  private final transient RunResult result;

  /**
   * @param failures one line per failed gate
   * @param result the run, whose outputs are in place
   */
  public GateFailedException(List<String> failures, RunResult result) {
    super(
        "evaluation gate failed: "
            + String.join("; ", failures)
            + " (outputs written to "
            + result.outputDir()
            + ")");
    this.failures = List.copyOf(failures);
    this.result = result;
  }

  /** One line per failed gate. */
  public List<String> failures() {
    return failures;
  }

  /** The run, whose outputs were written. */
  public RunResult result() {
    return result;
  }
}
