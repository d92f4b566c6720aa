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

/** {@code --json}: one JSON document on stdout, parsed back here. */
class JsonOutputTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void inspectJson(@TempDir Path dir) throws Exception {
    Path m = BenchCommandTest.linear(dir.resolve("a.onnx"), 1, 0, 0, 1);
    Result r = run("inspect", m.toString(), "--json");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    JsonNode d = JSON.readTree(r.out());
    assertThat(d.get("schema").asText()).isEqualTo("compress/inspect/v1");
    assertThat(d.get("model").asText()).isEqualTo(m.toString());
    assertThat(d.get("opsets").get("ai.onnx").asLong()).isEqualTo(17);
    assertThat(d.get("nodeCount").asInt()).isEqualTo(1);
    assertThat(d.get("operators").get("MatMul").asInt()).isEqualTo(1);
    assertThat(d.get("parameters").asLong()).isEqualTo(4);
    assertThat(d.get("byType").get("FLOAT").get("bytes").asLong()).isEqualTo(16);
    JsonNode in = d.get("inputs").get(0);
    assertThat(in.get("name").asText()).isEqualTo("x");
    assertThat(in.get("elemType").asText()).isEqualTo("FLOAT");
    assertThat(in.get("shape").get(0).asText()).isEqualTo("N");
    assertThat(in.get("shape").get(1).asInt()).isEqualTo(2);
    JsonNode layer = d.get("linearLayers").get(0);
    assertThat(layer.get("name").asText()).isEqualTo("/fc/MatMul");
    assertThat(layer.get("kind").asText()).isEqualTo("MATMUL");
    assertThat(layer.get("outFeatures").asLong()).isEqualTo(2);
  }

  @Test
  void validateJsonOfAValidPipeline(@TempDir Path dir) throws Exception {
    Path p =
        RunCommandTest.yaml(
            dir,
            "passes:\n  - type: rtn-quantization\n    targets: ['re:.*layer\\.0/.*']\n"
                + "output: {dir: "
                + dir.resolve("out")
                + "}\n");
    Result r = run("validate", p.toString(), "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode d = JSON.readTree(r.out());
    assertThat(d.get("schema").asText()).isEqualTo("compress/validate/v1");
    assertThat(d.get("valid").asBoolean()).isTrue();
    assertThat(d.get("linearLayers").asInt()).isPositive();
    JsonNode pass = d.get("passes").get(0);
    assertThat(pass.get("index").asInt()).isZero();
    assertThat(pass.get("type").asText()).isEqualTo("rtn-quantization");
    assertThat(pass.get("needsCalibration").asBoolean()).isFalse();
    assertThat(pass.get("layers").size()).isEqualTo(6); // q, k, v, attention out, ffn in, ffn out
  }

  @Test
  void validateJsonListsTheProblemsAndExitsTwo(@TempDir Path dir) throws Exception {
    Path p =
        RunCommandTest.yaml(
            dir,
            "passes:\n  - type: magnitude-pruning\n    sparsity: 1.5\n    scpoe: global\n"
                + "output: {dir: "
                + dir.resolve("out")
                + "}\n");
    Result r = run("validate", p.toString(), "--json");
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err()).startsWith("error: ");
    JsonNode d = JSON.readTree(r.out());
    assertThat(d.get("valid").asBoolean()).isFalse();
    assertThat(d.get("problems").toString()).contains("passes[0].sparsity", "scpoe");
    assertThat(Files.exists(dir.resolve("out"))).isFalse();
  }
}
