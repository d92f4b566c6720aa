package dev.compress.api.pipeline;

import dev.compress.api.pass.ProgressListener;
import java.io.PrintWriter;
import java.io.Writer;
import java.util.Objects;

/**
 * How {@link PipelineRunner#run} behaves beyond the spec.
 *
 * @param overwrite replace an existing output directory even when the spec's {@code
 *     output.overwrite} is false (the CLI's {@code --overwrite})
 * @param progress receives each pass's progress (e.g. a {@link ConsoleProgress})
 * @param out receives a short human-readable summary: one line per pass, the evaluation table and
 *     where the output went; {@link #defaults()} discards it
 * @param warnings receives the passes' warnings ({@link
 *     dev.compress.api.pass.PassReport#warnings()}), one line each, {@code warning: passes[I]
 *     (TYPE): ...}, right after the pass's summary line; {@link #defaults()} discards them (they
 *     are in the manifest and report.json either way)
 * @param cancellation stops the run from another thread ({@link Cancellation#never()} by default)
 */
public record RunOptions(
    boolean overwrite,
    ProgressListener progress,
    PrintWriter out,
    PrintWriter warnings,
    Cancellation cancellation) {
  /** Normalizes nulls. */
  public RunOptions {
    progress = progress == null ? ProgressListener.NONE : progress;
    out = out == null ? new PrintWriter(Writer.nullWriter()) : out;
    warnings = warnings == null ? new PrintWriter(Writer.nullWriter()) : warnings;
    cancellation = cancellation == null ? Cancellation.never() : cancellation;
  }

  /** No overwrite, no progress, no printed summary or warnings. */
  public static RunOptions defaults() {
    return new RunOptions(false, ProgressListener.NONE, null, null, null);
  }

  /** These options with {@code overwrite} set. */
  public RunOptions withOverwrite(boolean o) {
    return new RunOptions(o, progress, out, warnings, cancellation);
  }

  /** These options with another progress listener. */
  public RunOptions withProgress(ProgressListener p) {
    return new RunOptions(overwrite, p, out, warnings, cancellation);
  }

  /** These options printing the summary to {@code w}. */
  public RunOptions withOut(PrintWriter w) {
    return new RunOptions(
        overwrite, progress, Objects.requireNonNull(w, "out"), warnings, cancellation);
  }

  /** These options printing the passes' warnings to {@code w} (the CLI: stderr). */
  public RunOptions withWarnings(PrintWriter w) {
    return new RunOptions(
        overwrite, progress, out, Objects.requireNonNull(w, "warnings"), cancellation);
  }

  /** These options stopping the run when {@code c} is cancelled. */
  public RunOptions withCancellation(Cancellation c) {
    return new RunOptions(overwrite, progress, out, warnings, Objects.requireNonNull(c, "c"));
  }
}
