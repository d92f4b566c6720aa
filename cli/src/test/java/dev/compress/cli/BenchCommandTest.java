package dev.compress.cli;

import static dev.compress.cli.InspectCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.graph.ValueInfo.Dim;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.cli.InspectCommandTest.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code compress bench} and {@code compress eval} on tiny classifiers built in code. */
class BenchCommandTest {
  static Path linear(Path file, float... w) throws Exception {
    Graph g = new Graph("linear");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of("N"), Dim.of(2))));
    g.putInitializer(Tensor.ofFloats("W", new long[] {2, 2}, w));
    g.nodes().add(Node.of("/fc/MatMul", "MatMul", List.of("x", "W"), List.of("logits")));
    g.outputs().add(ValueInfo.tensor("logits", DataType.FLOAT, null));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    OnnxWriter.write(m, file);
    return file;
  }

  /** A model ONNX Runtime runs and the DJL interpreter has no kernel for (Hardmax). */
  static Path hardmax(Path file) throws Exception {
    Graph g = new Graph("hardmax");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of("N"), Dim.of(32))));
    g.nodes().add(Node.of("/act/Hardmax", "Hardmax", List.of("x"), List.of("y")));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    OnnxWriter.write(m, file);
    return file;
  }

  @Test
  void benchPrintsTheSideBySideTableAndWritesReports(@TempDir Path dir) throws Exception {
    Path a = linear(dir.resolve("a.onnx"), 1, 0, 0, 1);
    Path b = linear(dir.resolve("b.onnx"), 1, 0.1f, 0, 0.9f);
    Path data = dir.resolve("d.csv");
    Files.writeString(data, "label,x0,x1\n0,1,0\n1,0,1\n1,0.4,0.5\n0,0.6,0.5\n");
    Path out = dir.resolve("report");
    Result r =
        run(
            "bench",
            a.toString(),
            b.toString(),
            "--task",
            "classification",
            "--data",
            data.toString(),
            "--batch-sizes",
            "1,2",
            "--iterations",
            "3",
            "--threads",
            "1",
            "--out",
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    // progress (if the run takes over a second) on stderr, never mixed into the table on stdout
    assertThat(r.out())
        .startsWith("compress bench: 2 variant(s)\nvariant")
        .doesNotContain("loading");
    assertThat(r.err()).doesNotContain("variant  size");
    assertThat(r.out())
        .contains("variant")
        .contains("p50 ms b1 [95% CI]")
        .contains("top1.accuracy")
        .contains("latency sweep")
        .contains("memory, each model alone")
        .containsPattern("\\na +0\\.00 +1\\.000 ")
        .contains("wrote " + out.resolve("report.json"));
    assertThat(Files.readString(out.resolve("report.json")))
        .contains("\"schema\" : \"compress-report/1\"")
        .contains("\"layerErrors\"");
    assertThat(Files.readString(out.resolve("report.html"))).contains("report-data");
  }

  @Test
  void benchJsonIsTheOnlyThingOnStdoutAndQuietSilencesStderr(@TempDir Path dir) throws Exception {
    Path a = linear(dir.resolve("a.onnx"), 1, 0, 0, 1);
    Path b = linear(dir.resolve("b.onnx"), 1, 0.1f, 0, 0.9f);
    Path out = dir.resolve("report");
    Result r =
        run(
            "--quiet",
            "bench",
            a.toString(),
            b.toString(),
            "--task",
            "none",
            "--batch-sizes",
            "1",
            "--iterations",
            "3",
            "--threads",
            "1",
            "--no-memory",
            "--json",
            "--out",
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    JsonNode d = new ObjectMapper().readTree(r.out());
    assertThat(d.get("schema").asText()).isEqualTo("compress/bench/v1");
    assertThat(d.get("report").get("schema").asText()).isEqualTo("compress-report/1");
    assertThat(d.get("report").get("variants").get(1).get("name").asText()).isEqualTo("b");
    assertThat(d.get("report").get("latency").get(0).get("batch").asInt()).isEqualTo(1);
    assertThat(d.get("files").get("json").asText())
        .isEqualTo(out.resolve("report.json").toString());
    assertThat(out.resolve("report.json")).isRegularFile();
  }

  @Test
  void evalJsonWithQuietAfterTheSubcommand(@TempDir Path dir) throws Exception {
    Path a = linear(dir.resolve("a.onnx"), 1, 0, 0, 1);
    Path b = linear(dir.resolve("b.onnx"), 1, 0.1f, 0, 0.9f);
    Path data = dir.resolve("d.csv");
    Files.writeString(data, "label,x0,x1\n0,1,0\n1,0,1\n");
    Result r =
        run(
            "eval",
            a.toString(),
            b.toString(),
            "--task",
            "classification",
            "--data",
            data.toString(),
            "--batch-sizes",
            "0",
            "--no-memory",
            "--no-layers",
            "--json",
            "-q",
            "--out",
            dir.resolve("report").toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    JsonNode d = new ObjectMapper().readTree(r.out());
    assertThat(d.get("schema").asText()).isEqualTo("compress/eval/v1");
    assertThat(d.get("report").get("variants").get(0).get("name").asText()).isEqualTo("original");
    assertThat(d.get("report").get("task").get("name").asText()).isEqualTo("classification");
  }

  @Test
  void theInt4BenchConfigIsValid() {
    Result r = run("validate", "../evaluation/bench/minilm-int4.yaml");
    assertThat(r.err()).isEmpty();
    assertThat(r.code()).isZero();
  }

  @Test
  void evalOnAnEngineThatCannotRunTheModelIsOneClearLine(@TempDir Path dir) throws Exception {
    Path m = hardmax(dir.resolve("h.onnx"));
    Result r = run("eval", m.toString(), m.toString(), "--engine", "djl", "--task", "none");
    assertThat(r.code()).isEqualTo(CompressCommand.UNREADABLE);
    assertThat(r.err()).startsWith("error: engine djl cannot run " + m).contains("Hardmax");
    assertThat(r.err().lines().count()).isEqualTo(1);

    Result gpu = run("eval", m.toString(), m.toString(), "--device", "gpu", "--task", "none");
    assertThat(gpu.code()).isEqualTo(CompressCommand.USAGE);
    if (!dev.compress.runtime.ort.OrtExecutor.cudaProviderAvailable()) {
      assertThat(gpu.err())
          .contains("device gpu: ONNX Runtime's CUDA execution provider is not available")
          .contains("HINT: build with -Pgpu");
    }
  }
}
