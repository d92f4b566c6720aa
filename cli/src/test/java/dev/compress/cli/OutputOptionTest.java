package dev.compress.cli;

import static dev.compress.cli.InspectCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.cli.InspectCommandTest.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code -o/--output} and {@code --overwrite}, the same on {@code run}, {@code bench} and {@code
 * eval}: {@code --output} stands in for a missing {@code output:} block, an empty one is a usage
 * error, and an existing report folder is not replaced without {@code --overwrite}.
 */
class OutputOptionTest {
  private static String pipeline(Path model, String output) {
    return "apiVersion: compress/v1\nkind: Pipeline\nmodel: "
        + model
        + "\npasses:\n  - type: magnitude-pruning\n    sparsity: 0.5\n"
        + output;
  }

  private static List<String> entries(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void outputStandsInForAMissingOutputBlock(@TempDir Path dir) throws Exception {
    Path model = BenchCommandTest.linear(dir.resolve("m.onnx"), 1, 0.2f, 0.3f, 1);
    Path yaml = Files.writeString(dir.resolve("p.yaml"), pipeline(model, ""));
    Path out = dir.resolve("out");
    Result r = run("run", yaml.toString(), "--output", out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(out.resolve("model.onnx")).isRegularFile();

    // without --output the block is required, and the message says so
    Result missing = run("run", yaml.toString());
    assertThat(missing.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(missing.err()).contains("output is required");

    // with a block, --output replaces its dir and keeps its overwrite
    Path yaml2 =
        Files.writeString(
            dir.resolve("p2.yaml"),
            pipeline(model, "output: {dir: " + dir.resolve("elsewhere") + ", overwrite: true}\n"));
    Result again = run("run", yaml2.toString(), "-o", out.toString());
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(dir.resolve("elsewhere")).doesNotExist();
  }

  @Test
  void anEmptyOutputIsAUsageErrorNamingTheOption(@TempDir Path dir) throws Exception {
    Path model = BenchCommandTest.linear(dir.resolve("m.onnx"), 1, 0.2f, 0.3f, 1);
    Path yaml = Files.writeString(dir.resolve("p.yaml"), pipeline(model, ""));
    for (String[] args :
        List.of(
            new String[] {"run", yaml.toString(), "--output", ""},
            new String[] {"eval", model.toString(), model.toString(), "--output", ""},
            new String[] {"bench", model.toString(), "-o", " "})) {
      Result r = run(args);
      assertThat(r.code()).as(r.err()).isEqualTo(CompressCommand.USAGE);
      assertThat(r.err().strip())
          .startsWith("error: --output must name a directory")
          .hasLineCount(1);
      assertThat(r.err()).doesNotContain("Exception");
    }
    assertThat(entries(dir)).containsExactly("m.onnx", "p.yaml");
  }

  private static String[] bench(String command, Path a, Path b, Path data, String... more) {
    List<String> args = new ArrayList<>(List.of(command, a.toString()));
    if (command.equals("eval") || b != null) {
      args.add(b.toString());
    }
    args.addAll(
        List.of(
            "--task",
            "classification",
            "--data",
            data.toString(),
            "--batch-sizes",
            "1",
            "--iterations",
            "1",
            "--threads",
            "1",
            "--no-memory",
            "--no-layers"));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  @Test
  void benchAndEvalRefuseAnExistingReportFolderWithoutOverwrite(@TempDir Path dir)
      throws Exception {
    Path a = BenchCommandTest.linear(dir.resolve("a.onnx"), 1, 0, 0, 1);
    Path b = BenchCommandTest.linear(dir.resolve("b.onnx"), 1, 0.1f, 0, 0.9f);
    Path data = Files.writeString(dir.resolve("d.csv"), "label,x0,x1\n0,1,0\n1,0,1\n");
    Path out = Files.createDirectory(dir.resolve("report"));
    Files.writeString(out.resolve("report.json"), "mine");
    Files.writeString(out.resolve("notes.txt"), "keep");
    for (String command : List.of("bench", "eval")) {
      Result r = run(bench(command, a, b, data, "-o", out.toString()));
      assertThat(r.code()).as(r.err()).isEqualTo(CompressCommand.USAGE);
      assertThat(r.err().strip())
          .isEqualTo(
              "error: --output: "
                  + out
                  + " already exists; nothing was written (HINT: choose another folder, or"
                  + " replace its reports with --overwrite)");
      assertThat(r.out()).isEmpty(); // refused before anything is measured
      assertThat(entries(out)).containsExactly("notes.txt", "report.json");
      assertThat(out.resolve("report.json")).hasContent("mine");
    }
    // the old option name is still accepted, and refused the same way
    Result old = run(bench("bench", a, b, data, "--out", out.toString()));
    assertThat(old.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(old.err()).contains("already exists");

    Result ok = run(bench("eval", a, b, data, "--output", out.toString(), "--overwrite"));
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(entries(out)).containsExactly("notes.txt", "report.html", "report.json");
    assertThat(out.resolve("report.json")).content().contains("\"variants\"");

    // an empty folder is nothing to overwrite; a file is not a folder
    Path empty = Files.createDirectory(dir.resolve("empty"));
    assertThat(run(bench("bench", a, b, data, "-o", empty.toString())).code()).isZero();
    Result file = run(bench("bench", a, b, data, "-o", data.toString()));
    assertThat(file.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(file.err()).contains("exists and is not a directory");
  }
}
