package dev.compress.api.io.onnx;

import static dev.compress.api.io.onnx.OnnxPreservationTest.tensor;
import static dev.compress.api.io.onnx.OnnxTestSupport.entry;
import static dev.compress.api.io.onnx.OnnxTestSupport.minilm;
import static dev.compress.api.io.onnx.OnnxTestSupport.modelWithGraph;
import static dev.compress.api.io.onnx.OnnxTestSupport.msg;
import static dev.compress.api.io.onnx.OnnxTestSupport.proto;
import static dev.compress.api.io.onnx.OnnxTestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed files end in a {@link CorruptCheckpointException} naming the file, the offset and the
 * field; never another exception, a hang or an out-of-memory error.
 */
class OnnxCorruptInputTest {
  @TempDir Path dir;

  /** Reads {@code file}, expecting exactly a CorruptCheckpointException that names it. */
  static CorruptCheckpointException corrupt(Path file) {
    Throwable t = catchThrowable(() -> OnnxReader.read(file));
    assertThat(t)
        .isExactlyInstanceOf(CorruptCheckpointException.class)
        .hasMessageContaining(file.toString());
    return (CorruptCheckpointException) t;
  }

  Path file(String name, byte[] bytes) {
    return write(dir.resolve(name), bytes);
  }

  /** A model whose graph holds one initializer built by {@code body}. */
  Path oneTensor(String name, int dtype, long[] dims, Consumer<WireMessage> body) {
    return file(name, modelWithGraph(g -> g.message(5, tensor("w", dtype, dims, body))));
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  @Test
  void truncatedMiniLm() throws Exception {
    byte[] head = new byte[300];
    try (FileChannel in = FileChannel.open(minilm())) {
      in.read(ByteBuffer.wrap(head), 0);
      for (int cut : new int[] {0, 1, 7, 300}) { // as files on disk
        Path part = file("cut-" + cut + ".onnx", Arrays.copyOf(head, cut));
        CorruptCheckpointException e = corrupt(part);
        assertThat(e.offset()).as("cut at %d: %s", cut, e.getMessage()).isBetween(0L, (long) cut);
      }
      // long cuts: in memory, over slices of the mapped file, to spare copying 90 MB
      ByteBuffer all = in.map(FileChannel.MapMode.READ_ONLY, 0, in.size());
      for (int cut : new int[] {100_000, 20_000_000, all.capacity() - 3}) {
        Path name = dir.resolve("cut-" + cut + ".onnx");
        assertThat(decode(name, all.slice(0, cut)))
            .as("cut at %d", cut)
            .isExactlyInstanceOf(CorruptCheckpointException.class)
            .hasMessageContaining(name + " at byte ");
      }
    }
    // the cut inside the graph names the graph field and how much was left
    assertThat(corrupt(dir.resolve("cut-300.onnx")))
        .hasMessageContaining(
            "at byte 19: graph: length 90984125 runs past the end of the message (276 bytes left)");
  }

  /** Decodes in memory (no file per case, so thousands of cases stay fast). */
  static Throwable decode(Path name, byte[] bytes) {
    return decode(name, ByteBuffer.wrap(bytes));
  }

  static Throwable decode(Path name, ByteBuffer bytes) {
    return catchThrowable(() -> OnnxReader.decode(name, bytes));
  }

  @Test
  void everyTruncationOfASmallModelFailsCleanly() {
    byte[] bytes = OnnxWriter.toBytes(OnnxPreservationTest.handBuilt());
    Path name = dir.resolve("part.onnx");
    int accepted = 0;
    for (int cut = 0; cut < bytes.length; cut++) {
      Throwable t = decode(name, Arrays.copyOf(bytes, cut));
      if (t == null) {
        accepted++; // a cut between two trailing model fields leaves a valid, shorter model
      } else {
        assertThat(t)
            .as("cut at %d", cut)
            .isExactlyInstanceOf(CorruptCheckpointException.class)
            .hasMessageContaining(name + " at byte ");
      }
    }
    assertThat(accepted).isLessThan(10); // measured 5: after opsets, metadata, preserved fields
  }

  @Test
  void randomlyCorruptedBytesNeverEscapeAsAnotherException() {
    byte[] bytes = OnnxWriter.toBytes(OnnxPreservationTest.handBuilt());
    Path name = dir.resolve("fuzz.onnx");
    Random rnd = new Random(42);
    int failed = 0;
    for (int i = 0; i < 5000; i++) {
      byte[] b = bytes.clone();
      for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
        b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
      }
      try {
        ModelGraph m = OnnxReader.decode(name, ByteBuffer.wrap(b));
        OnnxWriter.toBytes(m); // what reads must also write
      } catch (CorruptCheckpointException e) {
        failed++;
      }
    }
    assertThat(failed).isGreaterThan(1000); // measured 2941 of 5000
  }

  @Test
  void varintLongerThanTenBytes() {
    byte[] ff = new byte[11];
    Arrays.fill(ff, (byte) 0xFF);
    assertThat(corrupt(file("varint.onnx", ff)))
        .hasMessageContaining("at byte 0: tag: varint longer than 10 bytes");
  }

  @Test
  void varintRunningPastTheEnd() {
    assertThat(corrupt(file("short-varint.onnx", new byte[] {0x08, (byte) 0x80, (byte) 0x80})))
        .hasMessageContaining("at byte 1: ir_version: varint runs past the end");
  }

  @Test
  void lengthDelimitedFieldRunningPastTheEnd() {
    byte[] b = concat(new byte[] {0x3A, 100}, new byte[10]); // graph (7, LEN), length 100
    assertThat(corrupt(file("past.onnx", b)))
        .hasMessageContaining(
            "at byte 0: graph: length 100 runs past the end of the message (10 bytes left)");
  }

  @Test
  void nestedRawDataRunningPastTheEndOfItsMessage() {
    byte[] tensorBody =
        concat(
            proto(
                t -> {
                  t.varint(1, 1000);
                  t.varint(2, 1);
                  t.string(8, "w");
                }),
            new byte[] {0x4A}, // raw_data (9, LEN)
            OnnxPreservationTest.varints(4_000_000),
            new byte[8]);
    Path f = file("raw.onnx", modelWithGraph(g -> g.bytes(5, tensorBody)));
    assertThat(corrupt(f))
        .hasMessageContaining(
            "graph.initializer[0].raw_data: length 4000000 runs past the end of the message"
                + " (8 bytes left)");
  }

  @Test
  void absurdLengthIsRejectedBeforeAnyAllocation() {
    byte[] b = concat(new byte[] {0x3A}, OnnxPreservationTest.varints(1L << 40), new byte[4]);
    assertThat(corrupt(file("absurd.onnx", b)))
        .hasMessageContaining("graph: length 1099511627776 runs past the end");
    // inside a message: a graph name claiming 2^64-1 bytes
    byte[] inner = concat(new byte[] {0x12}, OnnxPreservationTest.varints(-1L)); // name, 2^64-1
    byte[] model = concat(new byte[] {0x3A}, OnnxPreservationTest.varints(inner.length), inner);
    assertThat(corrupt(file("absurd2.onnx", model)))
        .hasMessageContaining("graph.name: length 18446744073709551615 runs past the end");
  }

  @Test
  void unknownAndGroupWireTypes() {
    assertThat(corrupt(file("wire7.onnx", new byte[] {0x3F, 0})))
        .hasMessageContaining("at byte 0: graph: unknown wire type 7");
    assertThat(corrupt(file("wire3.onnx", new byte[] {0x0B})))
        .hasMessageContaining("ir_version: wire type 3 (protobuf groups)");
    assertThat(corrupt(file("field0.onnx", new byte[] {0x02, 0})))
        .hasMessageContaining("invalid field number 0");
  }

  @Test
  void knownFieldWithTheWrongWireType() {
    assertThat(corrupt(file("wrong.onnx", new byte[] {0x0A, 0})))
        .hasMessageContaining("at byte 0: ir_version: wire type 2 where 0 was expected");
  }

  @Test
  void unknownDataTypeCode() {
    Path f = oneTensor("dtype.onnx", 99, new long[] {2}, t -> t.bytes(9, new byte[8]));
    assertThat(corrupt(f))
        .hasMessageContaining("graph.initializer[0]: tensor 'w' has unknown data_type code 99");
  }

  @Test
  void rawDataSizeMismatchWithShape() {
    Path f = oneTensor("size.onnx", 1, new long[] {2, 3}, t -> t.bytes(9, new byte[20]));
    assertThat(corrupt(f))
        .hasMessageContaining(
            "graph.initializer[0]: tensor 'w': raw_data has 20 bytes, FLOAT [2, 3] needs 24 bytes");
  }

  @Test
  void typedDataCountMismatchAndWrongTypedField() {
    Path f =
        oneTensor(
            "count.onnx", 1, new long[] {2}, t -> OnnxPreservationTest.packedFloats(t, 1, 2, 3));
    assertThat(corrupt(f))
        .hasMessageContaining(
            "graph.initializer[0].float_data: tensor 'w' has 3 values, FLOAT needs 2");
    Path g =
        oneTensor("field.onnx", 7, new long[] {1}, t -> OnnxPreservationTest.packedFloats(t, 1));
    assertThat(corrupt(g))
        .hasMessageContaining("of type INT64 cannot hold its values in float_data");
    Path h = oneTensor("nodata.onnx", 1, new long[] {4}, t -> {});
    assertThat(corrupt(h)).hasMessageContaining("tensor 'w' has no data");
    Path n = oneTensor("neg.onnx", 1, new long[] {-2}, t -> {});
    assertThat(corrupt(n)).hasMessageContaining("negative dimension in [-2]");
  }

  @Test
  void nodeWithoutOpTypeAndDuplicateInitializers() {
    Path f = file("noop.onnx", modelWithGraph(g -> g.message(1, msg(n -> n.string(3, "lonely")))));
    assertThat(corrupt(f)).hasMessageContaining("graph.node[0]: node 'lonely' has no op_type");
    Path d =
        file(
            "dup.onnx",
            modelWithGraph(
                g -> {
                  g.message(5, tensor("w", 1, new long[] {1}, t -> t.bytes(9, new byte[4])));
                  g.message(5, tensor("w", 1, new long[] {1}, t -> t.bytes(9, new byte[4])));
                }));
    assertThat(corrupt(d)).hasMessageContaining("graph.initializer: duplicate initializer 'w'");
  }

  @Test
  void notAModelAtAll() {
    assertThat(corrupt(file("empty.onnx", new byte[0]))).hasMessageContaining("model has no graph");
    byte[] noOpset =
        proto(
            m -> {
              m.varint(1, 8);
              m.message(7, msg(g -> g.string(2, "g")));
            });
    assertThat(corrupt(file("noopset.onnx", noOpset))).hasMessageContaining("has no opset_import");
  }

  @Test
  void subgraphsNestedTooDeep() throws Exception {
    Graph inner = new Graph("leaf");
    for (int i = 0; i < OnnxReader.MAX_GRAPH_DEPTH + 5; i++) {
      Graph outer = new Graph("g" + i);
      outer
          .nodes()
          .add(
              Node.of("if" + i, "If", List.of("c"), List.of("y"))
                  .put(Attribute.of("then_branch", inner)));
      inner = outer;
    }
    inner.inputs().add(ValueInfo.tensor("c", DataType.BOOL, List.of())); // read at every level
    ModelGraph m = new ModelGraph(8, inner);
    m.opsetImports().put("", 17L);
    Path f = dir.resolve("deep.onnx");
    OnnxWriter.write(m, f);
    assertThat(corrupt(f)).hasMessageContaining("subgraphs nested deeper than 64 levels");
  }

  /** A model with one external-data FLOAT[4] tensor described by {@code entries}. */
  Path externalModel(String name, WireMessage... entries) {
    return oneTensor(
        name,
        1,
        new long[] {4},
        t -> {
          for (WireMessage e : entries) {
            t.message(13, e);
          }
          t.varint(14, 1);
        });
  }

  @Test
  void missingExternalDataFile() {
    Path f = externalModel("ext.onnx", entry("location", "weights.bin"));
    assertThat(corrupt(f))
        .hasMessageContaining("tensor 'w': external-data file")
        .hasMessageContaining(dir.resolve("weights.bin") + " is missing");
  }

  @Test
  void externalDataOffsetBeyondTheFile() throws Exception {
    Files.write(dir.resolve("weights.bin"), new byte[32]);
    Path f =
        externalModel(
            "ext.onnx",
            entry("location", "weights.bin"),
            entry("offset", "100"),
            entry("length", "16"));
    assertThat(corrupt(f))
        .hasMessageContaining("graph.initializer[0]: tensor 'w': external data at offset 100")
        .hasMessageContaining("runs past the end of " + dir.resolve("weights.bin") + " (32 bytes)");
    Path ok = externalModel("ok.onnx", entry("location", "weights.bin"), entry("offset", "16"));
    assertThat(OnnxReader.read(ok).graph().initializers().get("w").toFloatArray()).hasSize(4);
    Path bad = externalModel("len.onnx", entry("location", "weights.bin"), entry("length", "12"));
    assertThat(corrupt(bad)).hasMessageContaining("external data length 12, FLOAT [4] needs 16");
  }

  @Test
  void externalDataLocationsThatEscapeTheFolder() throws Exception {
    Path sub = Files.createDirectories(dir.resolve("model"));
    Files.write(dir.resolve("secret.bin"), new byte[16]);
    byte[] escape =
        modelWithGraph(
            g ->
                g.message(
                    5,
                    tensor(
                        "w",
                        1,
                        new long[] {4},
                        t -> {
                          t.message(13, entry("location", "../secret.bin"));
                          t.varint(14, 1);
                        })));
    Path f = write(sub.resolve("m.onnx"), escape);
    assertThat(corrupt(f))
        .hasMessageContaining("location '../secret.bin' escapes the model's folder");
    Path abs = externalModel("abs.onnx", entry("location", dir.resolve("secret.bin").toString()));
    assertThat(corrupt(abs)).hasMessageContaining("is absolute");
  }

  @Test
  void filesOverTheProtobufLimitAreRejectedWithoutMapping() throws Exception {
    Path big = dir.resolve("huge.onnx");
    try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
      raf.setLength((1L << 31) + 10); // sparse: no disk used
    }
    assertThat(corrupt(big)).hasMessageContaining("over the 2 GiB protobuf limit");
  }

  @Test
  void aMissingModelFileIsAnIoError() {
    assertThat(catchThrowable(() -> OnnxReader.read(dir.resolve("nope.onnx"))))
        .isInstanceOf(NoSuchFileException.class);
  }
}
