package dev.compress.api.io.onnx;

import static dev.compress.api.io.onnx.OnnxTestSupport.assertSameTensorBytes;
import static dev.compress.api.io.onnx.OnnxTestSupport.describe;
import static dev.compress.api.io.onnx.OnnxTestSupport.minilm;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads and writes the real all-MiniLM-L6-v2 export (IR 7, opset 14) shipped in its jar. */
class OnnxMiniLmTest {
  static final int EXPECTED_NODES = 692;
  static final int EXPECTED_INITIALIZERS = 104;
  static final String QUERY = "/encoder/layer.0/attention/self/query/MatMul";
  static ModelGraph model;

  @BeforeAll
  static void read() throws Exception {
    Path file = minilm(); // extracted once into target/
    long t0 = System.nanoTime();
    model = OnnxReader.read(file);
    System.out.printf("MiniLM read in %.1f ms%n", (System.nanoTime() - t0) / 1e6);
  }

  @Test
  void readsTheExportAsItIs() {
    assertThat(model.irVersion()).isEqualTo(7);
    assertThat(model.opset("")).hasValue(14);
    assertThat(model.graph().nodes()).hasSize(EXPECTED_NODES);
    assertThat(model.graph().initializers()).hasSize(EXPECTED_INITIALIZERS);
    assertThat(model.graph().feedInputs())
        .extracting(v -> v.name())
        .containsExactly("input_ids", "attention_mask", "token_type_ids");
    for (int layer = 0; layer < 6; layer++) {
      for (String proj : new String[] {"query", "key", "value"}) {
        String name = "/encoder/layer." + layer + "/attention/self/" + proj + "/MatMul";
        Node n = model.graph().node(name).orElseThrow(() -> new AssertionError("no " + name));
        assertThat(n.opType()).isEqualTo("MatMul");
        Tensor w = model.graph().constant(n.input(1)).orElseThrow();
        assertThat(w.dtype()).isEqualTo(DataType.FLOAT);
        assertThat(w.shape()).containsExactly(384, 384);
      }
    }
    long params =
        model.graph().initializers().values().stream().mapToLong(Tensor::elementCount).sum();
    assertThat(params).isBetween(22_600_000L, 22_800_000L); // measured 22,713,728
  }

  @Test
  void weightsAreSlicesOfTheMappedFileNotHeapCopies() {
    Tensor w = model.graph().initializers().values().iterator().next();
    ByteBuffer data = w.data();
    assertThat(data.isDirect()).isTrue();
    assertThat(model.graph().initializers().values())
        .filteredOn(t -> t.byteSize() > 4096)
        .allSatisfy(t -> assertThat(t.data().isDirect()).isTrue());
  }

  @Test
  void roundTripIsStructurallyEqualAndDeterministic(@TempDir Path dir) throws Exception {
    Path first = dir.resolve("first.onnx");
    long t0 = System.nanoTime();
    OnnxWriter.write(model, first);
    System.out.printf("MiniLM written in %.1f ms%n", (System.nanoTime() - t0) / 1e6);
    ModelGraph back = OnnxReader.read(first);
    assertThat(describe(back)).isEqualTo(describe(model));
    assertSameTensorBytes(model.graph(), back.graph());

    Path second = dir.resolve("second.onnx");
    OnnxWriter.write(back, second);
    assertThat(Files.mismatch(first, second)).isEqualTo(-1L);
    // the exporter used raw_data and canonical field order, so nothing changes at all
    assertThat(Files.mismatch(first, minilm())).isEqualTo(-1L);
  }

  @Test
  void externalDataRoundTrip(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("model.onnx");
    OnnxWriter.write(
        model, out, OnnxWriter.Options.externalData(1024).withDataFileName("weights.bin"));
    Path data = dir.resolve("weights.bin");
    assertThat(data).exists();
    assertThat(Files.size(out)).isLessThan(1_000_000); // measured 133 KB of graph
    assertThat(Files.size(data)).isGreaterThan(90_000_000L);

    ModelGraph back = OnnxReader.read(out);
    assertThat(describe(back)).isEqualTo(describe(model));
    assertSameTensorBytes(model.graph(), back.graph());
    String query = back.graph().node(QUERY).orElseThrow().input(1);
    assertThat(back.graph().constant(query).orElseThrow().data().isDirect()).isTrue();

    // each tensor's offset (the digits after an "offset" key) is a multiple of 4096
    String text = new String(Files.readAllBytes(out), StandardCharsets.ISO_8859_1);
    Matcher m = Pattern.compile("offset\\x12.([0-9]+)").matcher(text);
    int offsets = 0;
    while (m.find()) {
      assertThat(Long.parseLong(m.group(1)) % 4096).isZero();
      offsets++;
    }
    assertThat(offsets).isEqualTo(EXPECTED_INITIALIZERS); // all 104 are at least 1 KiB

    // external -> inline gives back the original export, byte for byte
    Path inline = dir.resolve("inline.onnx");
    OnnxWriter.write(back, inline);
    assertThat(Files.mismatch(inline, minilm())).isEqualTo(-1L);
  }

  @Test
  void switchesToExternalDataAboveTheProtobufLimit(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("big.onnx");
    // the 2 GiB limit, scaled down to 10 MB so a 90 MB model crosses it
    OnnxWriter.write(model, out, OnnxWriter.Options.defaults(), 10_000_000);
    assertThat(dir.resolve("big.onnx.data")).exists();
    assertThat(Files.size(out)).isLessThan(10_000_000);
    assertSameTensorBytes(model.graph(), OnnxReader.read(out).graph());
  }

  @Test
  void constantNodesHoldTensorAttributes() {
    long constants =
        model.graph().nodes().stream().filter(n -> n.opType().equals("Constant")).count();
    assertThat(constants).isEqualTo(198);
    Node c =
        model.graph().nodes().stream()
            .filter(n -> n.opType().equals("Constant"))
            .findFirst()
            .orElseThrow();
    assertThat(model.graph().constant(c.output(0))).isPresent();
  }

  @Test
  void theOlderOpset11ExportRoundTripsByteForByteToo(@TempDir Path dir) throws Exception {
    Path old = Path.of("target/test-models/minilm-opset11/all-minilm-l6-v2.onnx");
    assertThat(old).as("unpacked by compress-api/pom.xml").isRegularFile();
    ModelGraph m = OnnxReader.read(old);
    assertThat(m.irVersion()).isEqualTo(6);
    assertThat(m.opset("")).hasValue(11);
    assertThat(m.graph().outputs()).hasSize(1);
    Path out = dir.resolve("old.onnx");
    OnnxWriter.write(m, out);
    assertThat(Files.mismatch(out, old)).isEqualTo(-1L);
  }
}
