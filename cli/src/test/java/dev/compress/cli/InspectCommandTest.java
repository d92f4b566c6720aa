package dev.compress.cli;

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
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = CompressCommand.run(args, new PrintWriter(out), new PrintWriter(err));
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void inspectsTheBuiltinMiniLm() {
    Result r = run("inspect", "builtin:all-minilm-l6-v2");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("input_ids", "attention_mask", "token_type_ids", "output_0")
        .contains("MatMul")
        .contains("/encoder/layer.0/attention/self/query/MatMul")
        .contains("/encoder/layer.5/output/dense/MatMul")
        .contains("FLOAT");
    // 22.7M parameters in f32 (the pooler included in this export)
    assertThat(r.out()).containsPattern("Parameters 22,[0-9]{3},[0-9]{3}");
  }

  @Test
  void checkAcceptsTheBuiltinMiniLm() throws Exception {
    Result r = run("inspect", "--check", "builtin:all-minilm-l6-v2");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains(
            "Check     every node conforms to the ONNX operator specification at the opsets it"
                + " imports")
        .doesNotContain("not checked");
    Result j = run("inspect", "--json", "--check", "builtin:all-minilm-l6-v2");
    assertThat(j.code()).isZero();
    JsonNode check = new ObjectMapper().readTree(j.out()).get("check");
    assertThat(check.get("ok").asBoolean()).isTrue();
    assertThat(check.get("violations")).isEmpty();
    assertThat(check.get("notChecked")).isEmpty();
  }

  @Test
  void checkListsEveryViolationAndExitsWith3(@TempDir Path dir) throws Exception {
    Path file = layerNormAtOpset14(dir);
    Result plain = run("inspect", file.toString());
    assertThat(plain.code()).as(plain.err()).isZero(); // read with a note, not refused
    assertThat(plain.out()).contains("Note      " + file + ": does not conform");

    Result r = run("inspect", "--check", file.toString());
    assertThat(r.code()).isEqualTo(CompressCommand.UNREADABLE);
    assertThat(r.out())
        .contains("Check     1 node not conforming to the ONNX operator specification")
        .contains(
            "  graph 'g': node 'ln' (LayerNormalization, ai.onnx opset 14): operator"
                + " LayerNormalization is defined from ai.onnx opset 17")
        .contains("not checked (operators outside the checker's table): my.domain::Frobnicate");

    Result j = run("inspect", "--json", "--check", file.toString());
    assertThat(j.code()).isEqualTo(CompressCommand.UNREADABLE);
    JsonNode check = new ObjectMapper().readTree(j.out()).get("check");
    assertThat(check.get("ok").asBoolean()).isFalse();
    JsonNode v = check.get("violations").get(0);
    assertThat(v.get("node").asText()).isEqualTo("ln");
    assertThat(v.get("operator").asText()).isEqualTo("LayerNormalization");
    assertThat(v.get("domain").asText()).isEqualTo("ai.onnx");
    assertThat(v.get("opset").asLong()).isEqualTo(14);
    assertThat(check.get("notChecked").get(0).asText()).isEqualTo("my.domain::Frobnicate");
  }

  /**
   * x -> LayerNormalization -> my.domain::Frobnicate -> y, written at opset 17 (the writer refuses
   * anything else), then the opset import's version patched to 14 in the bytes.
   */
  private static Path layerNormAtOpset14(Path dir) throws Exception {
    Graph g = new Graph("g");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of(2), Dim.of(4))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, List.of(Dim.of(2), Dim.of(4))));
    g.putInitializer(Tensor.ofFloats("s", new long[] {4}, 1, 1, 1, 1));
    g.nodes().add(Node.of("ln", "LayerNormalization", List.of("x", "s"), List.of("h")));
    g.nodes().add(new Node("f", "Frobnicate", "my.domain", List.of("h"), List.of("y")));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    m.opsetImports().put("my.domain", 1L);
    Path file = dir.resolve("ln14.onnx");
    OnnxWriter.write(m, file);
    byte[] b = Files.readAllBytes(file);
    // OperatorSetIdProto of the default domain: field 2 (version) = 17, i.e. bytes 0x10 0x11,
    // inside a ModelProto field 8 (opset_import, tag 0x42) of at most 4 bytes.
    int patched = 0;
    for (int i = 0; i + 3 < b.length; i++) {
      if (b[i] == 0x42 && b[i + 1] <= 4 && b[i + 1] >= 2) {
        int end = i + 2 + b[i + 1];
        if (end <= b.length && b[end - 2] == 0x10 && b[end - 1] == 0x11) {
          b[end - 1] = 14;
          patched++;
        }
      }
    }
    assertThat(patched).isEqualTo(1);
    Files.write(file, b);
    return file;
  }

  @Test
  void missingFileIsAUsageErrorWithOneLine() {
    Result r = run("inspect", "/nonexistent/model.onnx");
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err().strip()).startsWith("error: ").contains("/nonexistent/model.onnx");
    assertThat(r.err().strip().lines()).hasSize(1);
  }

  @Test
  void corruptFileIsUnreadableCheckpoint(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad.onnx");
    Files.write(bad, new byte[] {(byte) 0x08, (byte) 0xff, (byte) 0xff, (byte) 0xff});
    Result r = run("inspect", bad.toString());
    assertThat(r.code()).isEqualTo(CompressCommand.UNREADABLE);
    assertThat(r.err()).startsWith("error: ").contains("bad.onnx");
    assertThat(r.err().strip().lines()).hasSize(1);
  }

  @Test
  void unknownBuiltinListsTheKnownOnes() {
    Result r = run("inspect", "builtin:nope");
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err()).contains("builtin:all-minilm-l6-v2");
  }

  @Test
  void unknownOptionIsUsageError() {
    Result r = run("inspect", "--bogus", "x");
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
  }
}
