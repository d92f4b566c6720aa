package dev.compress.cli;

import static dev.compress.cli.InspectCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.graph.ValueInfo.Dim;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.tensor.DataType;
import dev.compress.cli.InspectCommandTest.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Structurally invalid ONNX files, files that are not ONNX and FIFOs: {@code inspect} and {@code
 * run} exit 3 with one line naming the file and the node, and write nothing.
 */
class InvalidModelCommandTest {
  @TempDir Path dir;

  /** inp -> Relu 'first' -> hidden -> Neg 'second' -> result. */
  static byte[] chain() throws Exception {
    Graph g = new Graph("g");
    g.inputs().add(ValueInfo.tensor("inp", DataType.FLOAT, List.of(Dim.of(2))));
    g.outputs().add(ValueInfo.tensor("result", DataType.FLOAT, List.of(Dim.of(2))));
    g.nodes().add(Node.of("first", "Relu", List.of("inp"), List.of("hidden")));
    g.nodes().add(Node.of("second", "Neg", List.of("hidden"), List.of("result")));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    Path tmp = Files.createTempFile("chain", ".onnx");
    try {
      OnnxWriter.write(m, tmp);
      return Files.readAllBytes(tmp);
    } finally {
      Files.delete(tmp);
    }
  }

  /** {@code bytes} with the first or last occurrence of {@code from} replaced (same length). */
  static byte[] replace(byte[] bytes, String from, String to, boolean last) {
    byte[] f = from.getBytes(StandardCharsets.US_ASCII);
    byte[] t = to.getBytes(StandardCharsets.US_ASCII);
    int at = -1;
    for (int i = 0; i + f.length <= bytes.length; i++) {
      if (Arrays.equals(bytes, i, i + f.length, f, 0, f.length)) {
        at = i;
        if (!last) {
          break;
        }
      }
    }
    assertThat(at).as("'%s' in the model", from).isNotNegative();
    byte[] out = bytes.clone();
    System.arraycopy(t, 0, out, at, t.length);
    return out;
  }

  Path file(String name, byte[] bytes) throws Exception {
    return Files.write(dir.resolve(name), bytes);
  }

  /** {@code inspect FILE} fails with exit 3 and one line that names the file; returns it. */
  static String refused(Path file) {
    Result r = run("inspect", file.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(CompressCommand.UNREADABLE);
    assertThat(r.out()).isEmpty();
    String line = r.err().strip();
    assertThat(line.lines()).hasSize(1);
    assertThat(line).startsWith("error: " + file + ": ");
    return line;
  }

  @Test
  void danglingInput() throws Exception {
    Path f = file("dangling.onnx", replace(chain(), "hidden", "ghost_", true));
    assertThat(refused(f))
        .endsWith(
            "graph 'g': node 'second' (Neg) reads 'ghost_', which no node, graph input or"
                + " initializer defines");
  }

  @Test
  void flippedByteInAValueName() throws Exception {
    Path f = file("flipped.onnx", replace(chain(), "hidden", "hidde\u006f", true));
    assertThat(refused(f)).contains("node 'second' (Neg) reads 'hiddeo', which no node");
  }

  @Test
  void unproducedOutput() throws Exception {
    Path f = file("unproduced.onnx", replace(chain(), "result", "resulx", true));
    assertThat(refused(f))
        .endsWith(
            "graph 'g': graph output 'resulx' is computed by no node (and is no graph input or initializer)");
  }

  @Test
  void cycle() throws Exception {
    Path f = file("cycle.onnx", cycleBytes());
    assertThat(refused(f))
        .endsWith(
            "graph 'g': nodes form a cycle: node 'first' (Relu) reads 'result' from node"
                + " 'second' (Neg), which reads 'hidden' from node 'first' (Relu)");
  }

  /** The chain with its first node reading 'result' (the second node's output). */
  static byte[] cycleBytes() throws Exception {
    Graph g = new Graph("g");
    g.inputs().add(ValueInfo.tensor("inp", DataType.FLOAT, List.of(Dim.of(2))));
    g.outputs().add(ValueInfo.tensor("result", DataType.FLOAT, List.of(Dim.of(2))));
    g.nodes().add(Node.of("first", "Relu", List.of("inp___"), List.of("hidden")));
    g.nodes().add(Node.of("second", "Neg", List.of("hidden"), List.of("result")));
    g.inputs().add(ValueInfo.tensor("inp___", DataType.FLOAT, List.of(Dim.of(2))));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    Path tmp = Files.createTempFile("cycle", ".onnx");
    try {
      OnnxWriter.write(m, tmp);
      return replace(Files.readAllBytes(tmp), "inp___", "result", false); // the node's input
    } finally {
      Files.delete(tmp);
    }
  }

  @Test
  void runRefusesAnInvalidModelAndWritesNothing() throws Exception {
    Path f = file("dangling.onnx", replace(chain(), "hidden", "ghost_", true));
    Path out = dir.resolve("out");
    Path yaml = dir.resolve("p.yaml");
    Files.writeString(
        yaml,
        "apiVersion: compress/v1\nkind: Pipeline\nmodel: "
            + f
            + "\npasses:\n  - type: magnitude-pruning\n    sparsity: 0.5\noutput: {dir: "
            + out
            + "}\n");
    Result r = run("run", yaml.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(CompressCommand.UNREADABLE);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains(f + ": graph 'g': node 'second' (Neg) reads 'ghost_'");
    assertThat(out).doesNotExist();
    try (var left = Files.list(dir)) {
      assertThat(left.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("dangling.onnx", "p.yaml");
    }
  }

  @Test
  void aTokenizerJsonIsNotAnOnnxModel() throws Exception {
    Path f = file("tokenizer.json", "{\"version\":\"1.0\",\"truncation\":null}".getBytes());
    assertThat(refused(f)).contains(f + ": not an ONNX model (JSON text starting '{\"version\"");
  }

  @Test
  void aFifoIsRefusedInsteadOfHanging() throws Exception {
    Path fifo = dir.resolve("pipe.onnx");
    Process p;
    try {
      p = new ProcessBuilder("mkfifo", fifo.toString()).start();
    } catch (java.io.IOException e) {
      assumeThat(false).as("no mkfifo here").isTrue();
      return;
    }
    assumeThat(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0).isTrue();
    assertThat(refused(fifo))
        .endsWith(
            fifo + ": not a regular file (a named pipe (FIFO)); an ONNX model must be a file");
  }

  @Test
  void operatorCountsSeparateTheMainGraphFromSubgraphs() throws Exception {
    Graph g = new Graph("g");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, null));
    g.inputs().add(ValueInfo.tensor("cond", DataType.BOOL, List.of()));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    g.nodes().add(Node.of("relu", "Relu", List.of("x"), List.of("h")));
    Node iff = Node.of("if", "If", List.of("cond"), List.of("y"));
    for (String branch : List.of("then_branch", "else_branch")) {
      Graph b = new Graph(branch);
      b.nodes().add(Node.of(branch + "/neg", "Neg", List.of("h"), List.of(branch + "_n")));
      b.nodes()
          .add(Node.of(branch + "/abs", "Abs", List.of(branch + "_n"), List.of(branch + "_y")));
      b.outputs().add(ValueInfo.tensor(branch + "_y", DataType.FLOAT, null));
      iff.put(Attribute.of(branch, b));
    }
    g.nodes().add(iff);
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    Path f = dir.resolve("if.onnx");
    OnnxWriter.write(m, f);
    Result r = run("inspect", f.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("Operators (2 nodes in the main graph, 4 in 2 subgraphs; counted together)")
        .containsPattern("Neg +2");
  }
}
