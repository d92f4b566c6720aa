package dev.compress.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Entry point of the {@code compress} launcher. */
public final class Main {
  /**
   * The system property through which the {@code ./compress} launcher names the process that copies
   * this JVM's stderr to the real one (dropping the JVM's incubator-module warning).
   */
  static final String STDERR_FILTER = "compress.stderr.filter";

  private Main() {}

  /** Runs the CLI and exits with its code. */
  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    int code = CompressCommand.run(args, out, err);
    out.flush();
    err.flush();
    awaitStderrFilter(System.getProperty(STDERR_FILTER));
    System.exit(code);
  }

  /**
   * Lets the launcher's stderr filter copy everything written so far before this process exits, so
   * that a caller that reads stderr right after the exit (e.g. from a file) sees the last error
   * line: stderr is closed (the JDK points it at /dev/null), which ends the filter's input; then
   * this waits for the filter to exit, at most two seconds.
   */
  static void awaitStderrFilter(String pid) {
    if (pid == null || pid.isBlank()) {
      return;
    }
    long id;
    try {
      id = Long.parseLong(pid.trim());
    } catch (NumberFormatException e) {
      return;
    }
    var filter = ProcessHandle.of(id);
    System.err.flush();
    System.err.close();
    if (filter.isPresent()) {
      try {
        filter.get().onExit().get(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        // the filter is gone or slow: exit anyway
      }
    }
  }
}
