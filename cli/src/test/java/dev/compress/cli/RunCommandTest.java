package dev.compress.cli;

import static dev.compress.cli.InspectCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.cli.InspectCommandTest.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunCommandTest {
  static final String HEAD =
      "apiVersion: compress/v1\nkind: Pipeline\nmodel: builtin:all-minilm-l6-v2\n";

  static Path yaml(Path dir, String body) throws Exception {
    Path p = dir.resolve("p.yaml");
    Files.writeString(p, HEAD + body);
    return p;
  }

  @Test
  void listPassesShowsBothPassesWithDefaults() {
    Result r = run("list-passes");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("magnitude-pruning", "rtn-quantization", "sparsity", "bits");
  }

  @Test
  void unknownPassIsAConfigErrorListingTheKnownOnes(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    Path p = yaml(dir, "passes:\n  - type: foo\noutput: {dir: " + out + "}\n");
    Result r = run("run", p.toString());
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err()).contains("passes[0]", "foo", "rtn-quantization", "magnitude-pruning");
    assertThat(out).doesNotExist();
  }

  @Test
  void outOfRangeAndMisspelledKeysAreReportedTogether(@TempDir Path dir) throws Exception {
    Path p =
        yaml(
            dir,
            "passes:\n  - type: magnitude-pruning\n    sparsity: 1.5\n    scpoe: global\n"
                + "output: {dir: "
                + dir.resolve("out")
                + "}\n");
    Result r = run("validate", p.toString());
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err()).contains("passes[0].sparsity must be in [0, 1), found 1.5", "scpoe");
  }

  @Test
  void regexMatchingNothingFailsValidation(@TempDir Path dir) throws Exception {
    Path p =
        yaml(
            dir,
            "passes:\n  - type: rtn-quantization\n    targets: ['re:.*nothing.*']\n"
                + "output: {dir: "
                + dir.resolve("out")
                + "}\n");
    Result r = run("validate", p.toString());
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err()).contains("re:.*nothing.*", "matches no linear layer");
  }

  @Test
  void runWritesOutputsAndRefusesToOverwriteWithoutTheFlag(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    Path p =
        yaml(
            dir,
            "passes:\n  - type: magnitude-pruning\n    sparsity: 0.1\n"
                + "    targets: ['/encoder/layer.0/intermediate/dense/MatMul']\n"
                + "output: {dir: "
                + out
                + "}\n");
    Result first = run("run", p.toString());
    assertThat(first.code()).as(first.err()).isZero();
    assertThat(out.resolve("model.onnx")).isRegularFile();
    assertThat(out.resolve("manifest.json")).isRegularFile();
    long before = Files.getLastModifiedTime(out.resolve("model.onnx")).toMillis();

    Result second = run("run", p.toString());
    assertThat(second.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(second.err()).contains("--overwrite");
    assertThat(Files.getLastModifiedTime(out.resolve("model.onnx")).toMillis()).isEqualTo(before);

    Path rerun = dir.resolve("rerun");
    Result again =
        run(
            "run",
            "--from-manifest",
            out.resolve("manifest.json").toString(),
            "-o",
            rerun.toString());
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(Files.readAllBytes(rerun.resolve("model.onnx")))
        .isEqualTo(Files.readAllBytes(out.resolve("model.onnx")));
  }
}
