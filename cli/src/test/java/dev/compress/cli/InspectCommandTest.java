package dev.compress.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
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
