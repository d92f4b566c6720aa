package dev.compress.cli;

import static dev.compress.cli.InspectCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.cli.InspectCommandTest.Result;
import org.junit.jupiter.api.Test;

/** The global options of {@code compress}, given before or after the subcommand. */
class CompressCommandTest {
  @Test
  void verboseAfterTheSubcommandPrintsTheStackTrace() {
    Result r = run("inspect", "/nonexistent/model.onnx", "--verbose");
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err()).startsWith("error: ").contains("\tat ");
  }

  @Test
  void verboseBeforeTheSubcommandPrintsTheStackTrace() {
    Result r = run("-v", "inspect", "/nonexistent/model.onnx");
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err()).contains("\tat ");
  }

  @Test
  void withoutVerboseTheErrorIsOneLine() {
    Result r = run("inspect", "/nonexistent/model.onnx");
    assertThat(r.err().strip().lines()).hasSize(1);
  }
}
