package dev.compress.api.io.onnx;

import static dev.compress.api.io.onnx.OnnxTestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.graph.ValueInfo.Dim;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Structurally invalid graphs are refused when read (one line naming the file, the node and the
 * value) and before they are written; files that are not ONNX at all, or not regular files, are
 * named as such.
 */
class OnnxGraphCheckTest {
  @TempDir Path dir;

  /** x -> Relu 'first' -> h -> Neg 'second' -> y. */
  static ModelGraph chain() {
    Graph g = new Graph("g");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of(2))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, List.of(Dim.of(2))));
    g.nodes().add(Node.of("first", "Relu", List.of("x"), List.of("hidden")));
    g.nodes().add(Node.of("second", "Neg", List.of("hidden"), List.of("y")));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    return m;
  }

  Path file(String name, ModelGraph m) {
    return write(dir.resolve(name), OnnxWriter.toBytes(m)); // toBytes does not check the graph
  }

  /** Reads {@code f}, expecting a one-line CorruptCheckpointException that starts with its name. */
  static String refused(Path f) {
    Throwable t = catchThrowable(() -> OnnxReader.read(f));
    assertThat(t).isInstanceOf(CorruptCheckpointException.class);
    String msg = t.getMessage();
    assertThat(msg).startsWith(f + ": ").doesNotContain("\n");
    return msg;
  }

  @Test
  void theValidChainReads() throws Exception {
    assertThat(OnnxReader.read(file("ok.onnx", chain())).graph().nodes()).hasSize(2);
  }

  @Test
  void nodeInputThatNothingDefines() {
    ModelGraph m = chain();
    m.graph().nodes().get(1).inputs().set(0, "ghost");
    assertThat(refused(file("dangling.onnx", m)))
        .contains(
            "graph 'g': node 'second' (Neg) reads 'ghost', which no node, graph input or"
                + " initializer defines");
  }

  @Test
  void graphOutputThatNothingComputes() {
    ModelGraph m = chain();
    m.graph().outputs().add(ValueInfo.tensor("z", DataType.FLOAT, null));
    assertThat(refused(file("unproduced.onnx", m)))
        .endsWith(
            "graph 'g': graph output 'z' is computed by no node (and is no graph input or"
                + " initializer)");
  }

  @Test
  void cycle() {
    ModelGraph m = chain();
    Graph g = m.graph();
    // first reads y, which second computes from first's output
    g.nodes().set(0, new Node("first", "Add", "", List.of("x", "y"), List.of("hidden")));
    assertThat(refused(file("cycle.onnx", m)))
        .endsWith(
            "graph 'g': nodes form a cycle: node 'first' (Add) reads 'y' from node 'second'"
                + " (Neg), which reads 'hidden' from node 'first' (Add)");
  }

  @Test
  void aFlippedByteInAValueNameMakesADanglingReference() throws Exception {
    byte[] bytes = OnnxWriter.toBytes(chain());
    byte[] name = "hidden".getBytes(StandardCharsets.US_ASCII);
    int last = -1; // the second node's input: the last occurrence
    for (int i = 0; i + name.length <= bytes.length; i++) {
      if (java.util.Arrays.equals(bytes, i, i + name.length, name, 0, name.length)) {
        last = i;
      }
    }
    bytes[last + 5] ^= 0x01; // hidden -> hiddeo
    Path f = write(dir.resolve("flipped.onnx"), bytes);
    assertThat(refused(f)).contains("node 'second' (Neg) reads 'hiddeo', which no node");
  }

  @Test
  void valueDefinedTwice() {
    ModelGraph m = chain();
    m.graph().nodes().add(Node.of("again", "Relu", List.of("x"), List.of("hidden")));
    assertThat(refused(file("twice.onnx", m)))
        .contains("node 'again' (Relu) writes 'hidden', which node 'first' (Relu) defines already");
  }

  @Test
  void initializerOfAnotherTypeThanItsGraphInput() {
    ModelGraph m = chain();
    Graph g = m.graph();
    g.inputs().add(ValueInfo.tensor("w", DataType.FLOAT, List.of(Dim.of(3))));
    g.putInitializer(Tensor.ofLongs("w", new long[] {2}, 1, 2));
    assertThat(refused(file("wtype.onnx", m)))
        .endsWith(
            "graph 'g': initializer 'w' is INT64[2] but the graph input of that name declares"
                + " FLOAT[3]");
  }

  @Test
  void nodesOutOfOrderAreSortedWithANote() throws Exception {
    ModelGraph m = chain();
    java.util.Collections.reverse(m.graph().nodes());
    List<String> notes = new ArrayList<>();
    ModelGraph read = OnnxReader.read(file("reversed.onnx", m), notes::add);
    assertThat(read.graph().nodes()).extracting(Node::name).containsExactly("first", "second");
    assertThat(notes)
        .singleElement()
        .asString()
        .contains("node 'second' (Neg) reads 'hidden', which node 'first' (Relu) computes later")
        .contains("sorted into topological order");
  }

  /** If(cond) whose then_branch reads an outer value and else_branch the {@code elseReads}. */
  static ModelGraph withIf(String elseReads) {
    ModelGraph m = chain();
    Graph g = m.graph();
    g.inputs().add(ValueInfo.tensor("cond", DataType.BOOL, List.of()));
    Graph then = new Graph("then");
    then.nodes().add(Node.of("t", "Identity", List.of("hidden"), List.of("t_out")));
    then.outputs().add(ValueInfo.tensor("t_out", DataType.FLOAT, null));
    Graph otherwise = new Graph("else");
    otherwise.nodes().add(Node.of("e", "Identity", List.of(elseReads), List.of("e_out")));
    otherwise.outputs().add(ValueInfo.tensor("e_out", DataType.FLOAT, null));
    Node iff = Node.of("if", "If", List.of("cond"), List.of("z"));
    iff.put(Attribute.of("then_branch", then)).put(Attribute.of("else_branch", otherwise));
    g.nodes().add(iff);
    g.outputs().add(ValueInfo.tensor("z", DataType.FLOAT, null));
    return m;
  }

  @Test
  void subgraphsReadOuterValuesButNotUndefinedOnes() throws Exception {
    assertThat(OnnxReader.read(file("if.onnx", withIf("x"))).graph().nodes()).hasSize(3);
    assertThat(refused(file("if-bad.onnx", withIf("nowhere"))))
        .endsWith(
            "graph 'g' > node 'if' (If).else_branch: node 'e' (Identity) reads 'nowhere', which"
                + " no node, graph input, initializer or enclosing graph defines");
  }

  @Test
  void aSubgraphReadingAValueComputedAfterItsNodeIsSorted() throws Exception {
    ModelGraph m = withIf("y");
    List<Node> nodes = m.graph().nodes();
    nodes.add(0, nodes.remove(2)); // the If first: its branches read hidden and y, computed later
    List<String> notes = new ArrayList<>();
    ModelGraph read = OnnxReader.read(file("if-early.onnx", m), notes::add);
    assertThat(read.graph().nodes())
        .extracting(Node::name)
        .containsExactly("first", "second", "if");
    assertThat(notes).singleElement().asString().contains("node 'if' (If) reads 'hidden'");
  }

  @Test
  void theWriterRefusesAnInvalidGraphAndWritesNothing() {
    ModelGraph m = chain();
    m.graph().nodes().get(1).inputs().set(0, "ghost");
    Path out = dir.resolve("out.onnx");
    Throwable t = catchThrowable(() -> OnnxWriter.write(m, out));
    assertThat(t)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(out + ": not written, the graph is invalid")
        .hasMessageContaining("node 'second' (Neg) reads 'ghost'");
    assertThat(out).doesNotExist();
  }

  @Test
  void theWriterSortsNodesOutOfOrder() throws Exception {
    ModelGraph m = chain();
    java.util.Collections.reverse(m.graph().nodes());
    Path out = dir.resolve("sorted.onnx");
    OnnxWriter.write(m, out);
    List<String> notes = new ArrayList<>();
    assertThat(OnnxReader.read(out, notes::add).graph().nodes())
        .extracting(Node::name)
        .containsExactly("first", "second");
    assertThat(notes).isEmpty();
  }

  @Test
  void jsonIsNotAnOnnxModel() {
    Path f = write(dir.resolve("tokenizer.json"), "{\n  \"version\": \"1.0\",\n".getBytes());
    assertThat(refused(f))
        .isEqualTo(
            f
                + ": not an ONNX model (JSON text starting '{ \"version\": \"1.0\",'; an ONNX"
                + " model is a binary ModelProto)");
  }

  @Test
  void otherFormatsAreNamed() {
    byte[] zip = {'P', 'K', 3, 4, 20, 0, 0, 0};
    assertThat(refused(write(dir.resolve("model.pt"), zip))).contains("not an ONNX model (a zip");
    byte[] proto = {(byte) 0x4a, 1, 0}; // field 9, length 1: not a ModelProto field
    assertThat(refused(write(dir.resolve("other.pb"), proto)))
        .contains("not an ONNX model (its first protobuf field is #9");
  }

  @Test
  void aFifoIsRefusedWithoutBlocking() throws Exception {
    Path fifo = dir.resolve("pipe.onnx");
    Process p;
    try {
      p = new ProcessBuilder("mkfifo", fifo.toString()).start();
    } catch (java.io.IOException e) {
      assumeThat(false).as("mkfifo is not available").isTrue();
      return;
    }
    assumeThat(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0).isTrue();
    assertThat(Files.isRegularFile(fifo)).isFalse();
    assertThat(refused(fifo))
        .isEqualTo(
            fifo + ": not a regular file (a named pipe (FIFO)); an ONNX model must be a file");
  }
}
