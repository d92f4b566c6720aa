package dev.compress.cli;

import static dev.compress.cli.InspectCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.cli.InspectCommandTest.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --pooling}, {@code --tokenizer} and {@code --layer-errors} of eval and bench. */
class MeasureReportOptionsTest {
  static Path data(Path dir) throws Exception {
    return Files.writeString(
        dir.resolve("d.csv"), "label,x0,x1\n0,1,0\n1,0,1\n1,0.4,0.5\n0,0.6,0.5\n");
  }

  @Test
  void layerErrorsModeIsRecordedInTheReport(@TempDir Path dir) throws Exception {
    Path a = BenchCommandTest.linear(dir.resolve("a.onnx"), 1, 0, 0, 1);
    Path b = BenchCommandTest.linear(dir.resolve("b.onnx"), 1, 0.1f, 0, 0.9f);
    Path out = dir.resolve("report");
    Result r =
        run(
            "eval",
            a.toString(),
            b.toString(),
            "--task",
            "logits",
            "--data",
            data(dir).toString(),
            "--batch-sizes",
            "0",
            "--no-memory",
            "--layer-errors",
            "isolated",
            "--out",
            out.toString());
    assertThat(r.err()).isEmpty();
    assertThat(r.code()).isZero();
    JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
    assertThat(json.at("/layerErrorModes").toString()).isEqualTo("[\"isolated\"]");
    assertThat(json.at("/layerErrors/compressed/0/mode").asText()).isEqualTo("isolated");
    assertThat(json.at("/layerErrorInputs").asText()).contains("d.csv");
  }

  @Test
  void badValuesAreOneLineNamingTheOption(@TempDir Path dir) throws Exception {
    Path a = BenchCommandTest.linear(dir.resolve("a.onnx"), 1, 0, 0, 1);
    String d = data(dir).toString();
    Result mode =
        run(
            "eval",
            a.toString(),
            a.toString(),
            "--task",
            "logits",
            "--data",
            d,
            "--layer-errors",
            "all");
    assertThat(mode.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(mode.err())
        .contains("--layer-errors must be one of [accumulated, isolated, both], found 'all'");
    Result pooling =
        run(
            "eval",
            a.toString(),
            a.toString(),
            "--task",
            "logits",
            "--data",
            d,
            "--pooling",
            "cls");
    assertThat(pooling.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(pooling.err())
        .contains("--pooling: pooling applies to the embedding-fidelity and opinion-sentiment");
    assertThat(pooling.err().lines().count()).isEqualTo(1);
  }

  @Test
  void aMissingTokenizerNamesBothFilesLookedFor(@TempDir Path dir) throws Exception {
    Path a = BenchCommandTest.linear(dir.resolve("enc.onnx"), 1, 0, 0, 1);
    Result r =
        run(
            "eval",
            a.toString(),
            a.toString(),
            "--task",
            "embedding-fidelity",
            "--out",
            dir.resolve("o").toString());
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err())
        .contains(dir.toAbsolutePath().resolve("enc-tokenizer.json").toString())
        .contains(dir.toAbsolutePath().resolve("tokenizer.json").toString())
        .contains("--tokenizer FILE");
    assertThat(r.err().lines().count()).isEqualTo(1);
    Result named =
        run(
            "eval",
            a.toString(),
            a.toString(),
            "--task",
            "embedding-fidelity",
            "--tokenizer",
            dir.resolve("nope.json").toString());
    assertThat(named.err()).contains("--tokenizer: tokenizer file ").contains("does not exist");
  }
}
