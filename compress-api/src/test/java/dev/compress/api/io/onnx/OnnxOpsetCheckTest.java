package dev.compress.api.io.onnx;

import static dev.compress.api.io.onnx.OnnxTestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.graph.ValueInfo.Dim;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer refuses a node that does not conform to the opset the model imports (our bug); the
 * reader notes it and reads on (a user's model that ONNX Runtime may accept).
 */
class OnnxOpsetCheckTest {
  @TempDir Path dir;

  /** x -> LayerNormalization 'ln' -> y at {@code opset}. */
  static ModelGraph layerNorm(long opset) {
    Graph g = new Graph("g");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of(2), Dim.of(4))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, List.of(Dim.of(2), Dim.of(4))));
    g.putInitializer(Tensor.ofFloats("s", new long[] {4}, 1, 1, 1, 1));
    g.nodes().add(Node.of("ln", "LayerNormalization", List.of("x", "s"), List.of("y")));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", opset);
    return m;
  }

  @Test
  void theWriterRefusesAnOperatorTheOpsetLacksAndWritesNothing() {
    Path out = dir.resolve("ln14.onnx");
    Throwable t = catchThrowable(() -> OnnxWriter.write(layerNorm(14), out));
    assertThat(t)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            out
                + ": not written, a node does not conform to the opset the model imports (a bug in"
                + " the code that built or edited it): graph 'g': node 'ln' (LayerNormalization,"
                + " ai.onnx opset 14): operator LayerNormalization is defined from ai.onnx opset"
                + " 17");
    assertThat(out).doesNotExist();
  }

  @Test
  void theReaderNotesANonConformingModelAndReadsIt() throws Exception {
    Path f = write(dir.resolve("user.onnx"), OnnxWriter.toBytes(layerNorm(11)));
    List<String> notes = new ArrayList<>();
    ModelGraph m = OnnxReader.read(f, notes::add);
    assertThat(m.graph().nodes()).hasSize(1);
    assertThat(notes)
        .singleElement()
        .asString()
        .startsWith(f + ": does not conform to the ONNX operator specification")
        .contains("node 'ln' (LayerNormalization, ai.onnx opset 11)");
  }

  @Test
  void aConformingModelIsWrittenAndReadWithoutNotes() throws Exception {
    Path out = dir.resolve("ln17.onnx");
    OnnxWriter.write(layerNorm(17), out);
    List<String> notes = new ArrayList<>();
    OnnxReader.read(out, notes::add);
    assertThat(notes).isEmpty();
  }
}
