package dev.compress.api.io.onnx;

import static dev.compress.api.io.onnx.OnnxTestSupport.describe;
import static dev.compress.api.io.onnx.OnnxTestSupport.entry;
import static dev.compress.api.io.onnx.OnnxTestSupport.modelWithGraph;
import static dev.compress.api.io.onnx.OnnxTestSupport.msg;
import static dev.compress.api.io.onnx.OnnxTestSupport.proto;
import static dev.compress.api.io.onnx.OnnxTestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.PreservedFields;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.graph.ValueInfo.Dim;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Everything the IR does not model survives a read-write round trip; typed data fields decode. */
class OnnxPreservationTest {
  @TempDir Path dir;

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static ByteBuffer bytes(byte[] b) {
    return ByteBuffer.wrap(b);
  }

  /** A model using most of what ONNX can say, with unknown fields at every level. */
  static ModelGraph handBuilt() {
    Graph g = new Graph("main");
    g.setDocString("main graph doc");
    g.metadata().put("graph-key", "graph-value");
    g.preserved().add(15, 2, bytes(proto(s -> s.string(1, "sparse-initializer-bytes"))));
    g.preserved().add(14, 2, bytes(proto(q -> q.string(1, "quantization-annotation"))));
    ByteBuffer tensorMeta = bytes(proto(t -> t.message(16, entry("origin", "hand-built"))));
    g.putInitializer(
        Tensor.ofFloats("w", new long[] {2, 2}, 1, 2, 3, 4)
            .withDocString("weights doc")
            .withPreservedBytes(tensorMeta));
    g.putInitializer(Tensor.ofStrings("labels", new long[] {2}, List.of(utf8("a"), utf8("bé"))));
    g.putInitializer(Tensor.ofBytes("q", DataType.INT4, new long[] {3}, (byte) 0x21, (byte) 0x03));

    PreservedFields channel = new PreservedFields();
    channel.add(3, 2, bytes(utf8("DATA_CHANNEL"))); // Dimension.denotation
    PreservedFields denotation = new PreservedFields();
    denotation.add(6, 2, bytes(utf8("TENSOR"))); // TypeProto.denotation
    PreservedFields sequence = new PreservedFields();
    sequence.add(4, 2, bytes(proto(s -> s.message(1, msg(t -> t.varint(1, 1)))))); // sequence_type
    PreservedFields viExtra = new PreservedFields();
    viExtra.add(77, 5, bytes(new byte[] {1, 2, 3, 4}));
    g.inputs()
        .add(
            new ValueInfo(
                "x",
                DataType.FLOAT.onnxCode(),
                List.of(Dim.of("batch"), new Dim(4, "", channel), new Dim(-1, "", null)),
                true,
                "input doc",
                Map.of("unit", "m"),
                denotation,
                viExtra));
    g.inputs().add(new ValueInfo("seq", 0, null, false, "", null, sequence, null));
    g.inputs().add(ValueInfo.tensor("cond", DataType.BOOL, List.of()));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null)); // unknown rank
    g.valueInfo().add(ValueInfo.tensor("t", DataType.FLOAT, List.of(Dim.of(2), Dim.of(2))));

    Node custom = new Node("fancy", "FancyOp", "com.example", List.of("x", "", "w"), List.of("t"));
    custom.put(Attribute.of("mode", "fast"));
    custom.put(Attribute.ofInts("axes", -1, 0, 5));
    custom.put(Attribute.ofFloats("alphas", 0.5f, -2f));
    custom.put(Attribute.of("count", 0L));
    custom.put(Attribute.of("eps", 0f));
    custom.put(
        new Attribute(
            "names", Attribute.Type.STRINGS, List.of(utf8("p"), utf8("q")), "", "attr doc", null));
    custom.put(new Attribute("alpha", Attribute.Type.FLOAT, null, "parent_alpha", "", null));
    PreservedFields sparse = new PreservedFields();
    sparse.add(22, 2, bytes(proto(s -> s.string(1, "sparse-tensor"))));
    custom.put(new Attribute("sp", Attribute.Type.SPARSE_TENSOR, null, "", "", sparse));
    custom.put(
        new Attribute(
            "ts",
            Attribute.Type.TENSORS,
            List.of(Tensor.ofLongs("", new long[] {2}, 7, -8), Tensor.ofInts("i", new long[0], 3)),
            "",
            "",
            null));
    custom.setDocString("node doc");
    custom.setOverload("v2");
    custom.metadata().put("node-key", "node-value");
    custom.preserved().add(1000, 0, bytes(new byte[] {42}));
    g.nodes().add(custom);

    Graph thenG = new Graph("then");
    thenG
        .nodes()
        .add(
            Node.of("c", "Constant", List.of(), List.of("y_then"))
                .put(Attribute.of("value", Tensor.ofFloats("", new long[] {1}, 9f))));
    thenG.outputs().add(ValueInfo.tensor("y_then", DataType.FLOAT, List.of(Dim.of(1))));
    Graph elseG = new Graph("else");
    elseG.nodes().add(Node.of("id", "Identity", List.of("t"), List.of("y_else")));
    elseG.outputs().add(ValueInfo.tensor("y_else", DataType.FLOAT, null));
    Node ifNode =
        Node.of("branch", "If", List.of("cond"), List.of("y"))
            .put(Attribute.of("then_branch", thenG))
            .put(Attribute.of("else_branch", elseG));
    g.nodes().add(ifNode);
    g.nodes()
        .add(
            Node.of("loopish", "Scanish", List.of(), List.of())
                .put(
                    new Attribute(
                        "bodies", Attribute.Type.GRAPHS, List.of(new Graph("b0")), "", "", null)));

    ModelGraph m = new ModelGraph(10, g);
    m.opsetImports().put("", 21L);
    m.opsetImports().put("com.example", 1L);
    m.setProducerName("compress-tests");
    m.setProducerVersion("0.1");
    m.setDomain("dev.compress");
    m.setModelVersion(3);
    m.setDocString("model doc");
    m.metadata().put("b-key", "1");
    m.metadata().put("a-key", "2");
    m.preserved().add(20, 2, bytes(proto(t -> t.string(1, "training-info"))));
    m.preserved().add(25, 2, bytes(proto(f -> f.string(1, "MyFunction"))));
    return m;
  }

  @Test
  void everythingSurvivesARoundTripIncludingAnAppendedUnknownField() throws Exception {
    ModelGraph original = handBuilt();
    Path first = dir.resolve("first.onnx");
    OnnxWriter.write(original, first);
    // append a field no ONNX version defines: number 999, length-delimited
    byte[] unknown = proto(u -> u.string(999, "from the future"));
    Files.write(first, unknown, java.nio.file.StandardOpenOption.APPEND);

    ModelGraph back = OnnxReader.read(first);
    original.preserved().add(999, 2, bytes(utf8("from the future")));
    assertThat(describe(back)).isEqualTo(describe(original));

    Node fancy = back.graph().node("fancy").orElseThrow();
    assertThat(fancy.domain()).isEqualTo("com.example");
    assertThat(fancy.qualifiedOpType()).isEqualTo("com.example::FancyOp");
    assertThat(fancy.inputs()).containsExactly("x", "", "w");
    assertThat(fancy.attribute("axes").orElseThrow().asLongs()).containsExactly(-1, 0, 5);
    assertThat(fancy.attribute("alpha").orElseThrow().refAttrName()).isEqualTo("parent_alpha");
    Graph thenG =
        back.graph().node("branch").orElseThrow().attribute("then_branch").orElseThrow().asGraph();
    assertThat(thenG.constant("y_then").orElseThrow().toFloatArray()).containsExactly(9f);
    assertThat(back.graph().initializers().get("q").toFloatArray()).containsExactly(1f, 2f, 3f);
    assertThat(back.metadata().keySet()).containsExactly("b-key", "a-key");
    assertThat(back.opset("com.example")).hasValue(1);

    // writing the re-read model reproduces the file, the appended field included
    Path second = dir.resolve("second.onnx");
    OnnxWriter.write(back, second);
    assertThat(Files.mismatch(first, second)).isEqualTo(-1L);
  }

  @Test
  void typedDataFieldsBecomeLittleEndianRawBytes() throws Exception {
    byte[] model =
        modelWithGraph(
            g -> {
              g.string(2, "typed");
              g.message(5, tensor("f32", 1, new long[] {2}, t -> packedFloats(t, 1.5f, -2f)));
              g.message(
                  5,
                  tensor(
                      "f32u",
                      1,
                      new long[] {2},
                      t -> {
                        t.float32(4, 3f); // unpacked: one tag per value
                        t.float32(4, 4f);
                      }));
              g.message(
                  5, tensor("f16", 10, new long[] {2}, t -> packedVarints(t, 5, 0x3C00, 0xC000)));
              g.message(5, tensor("bf16", 16, new long[] {1}, t -> packedVarints(t, 5, 0x3FC0)));
              g.message(5, tensor("i8", 3, new long[] {3}, t -> packedVarints(t, 5, -1, 5, -128)));
              g.message(5, tensor("b", 9, new long[] {2}, t -> packedVarints(t, 5, 1, 0)));
              g.message(5, tensor("u16", 4, new long[] {1}, t -> packedVarints(t, 5, 65535)));
              g.message(5, tensor("i4", 22, new long[] {3}, t -> packedVarints(t, 5, 0xF1, 0x07)));
              g.message(5, tensor("e4m3", 17, new long[] {1}, t -> packedVarints(t, 5, 0x38)));
              g.message(5, tensor("i32", 6, new long[] {2}, t -> packedVarints(t, 5, -2, 1 << 30)));
              g.message(
                  5, tensor("i64", 7, new long[] {2}, t -> packedVarints(t, 7, -7, 1L << 40)));
              g.message(
                  5, tensor("u32", 12, new long[] {1}, t -> packedVarints(t, 11, 4_000_000_000L)));
              g.message(5, tensor("u64", 13, new long[] {1}, t -> packedVarints(t, 11, -1L)));
              g.message(
                  5,
                  tensor("f64", 11, new long[] {1}, t -> t.bytes(10, le(8, 0x3FD0000000000000L))));
              g.message(
                  5,
                  tensor(
                      "s",
                      8,
                      new long[] {2},
                      t -> {
                        t.string(6, "hi");
                        t.string(6, "there");
                      }));
              g.message(5, tensor("empty", 1, new long[] {0, 3}, t -> {}));
            });
    Path file = write(dir.resolve("typed.onnx"), model);
    Graph g = OnnxReader.read(file).graph();
    Map<String, Tensor> t = g.initializers();
    assertThat(t.get("f32").toFloatArray()).containsExactly(1.5f, -2f);
    assertThat(t.get("f32u").toFloatArray()).containsExactly(3f, 4f);
    assertThat(t.get("f16").toFloatArray()).containsExactly(1f, -2f);
    assertThat(t.get("bf16").toFloatArray()).containsExactly(1.5f);
    assertThat(t.get("i8").toLongArray()).containsExactly(-1, 5, -128);
    assertThat(t.get("b").toLongArray()).containsExactly(1, 0);
    assertThat(t.get("u16").toFloatArray()).containsExactly(65535f);
    assertThat(t.get("i4").toFloatArray()).containsExactly(1f, -1f, 7f); // nibbles 1, F, 7
    assertThat(t.get("e4m3").data().get(0)).isEqualTo((byte) 0x38);
    assertThat(t.get("i32").toLongArray()).containsExactly(-2, 1 << 30);
    assertThat(t.get("i64").toLongArray()).containsExactly(-7, 1L << 40);
    assertThat(t.get("u32").toLongArray()).containsExactly(4_000_000_000L);
    assertThat(t.get("u64").toLongArray()).containsExactly(-1L);
    assertThat(t.get("f64").toFloatArray()).containsExactly(0.25f);
    assertThat(t.get("s").strings()).containsExactly(utf8("hi"), utf8("there"));
    assertThat(t.get("empty").byteSize()).isZero();

    // written back as raw_data: same values
    Path out = dir.resolve("raw.onnx");
    OnnxWriter.write(OnnxReader.read(file), out);
    ModelGraph back = OnnxReader.read(out);
    assertThat(describe(back)).isEqualTo(describe(OnnxReader.read(file)));
  }

  @Test
  void attributesWithoutATypeFieldGetOneInferredAndUnknownTypeShapesStayRaw() throws Exception {
    byte[] model =
        modelWithGraph(
            g -> {
              g.message(11, msg(v -> v.string(1, "x"))); // the graph input the node reads
              g.message(
                  1,
                  msg(
                      n -> {
                        n.string(1, "x");
                        n.string(2, "y");
                        n.string(4, "Old");
                        n.message(
                            5,
                            msg(
                                a -> {
                                  a.string(1, "k");
                                  a.varint(3, 4); // i, no type field (IR version 1)
                                }));
                        n.message(
                            5,
                            msg(
                                a -> {
                                  a.string(1, "mixed");
                                  a.varint(20, 1); // FLOAT, with a stray INT value
                                  a.float32(2, 0.5f);
                                  a.varint(3, 9);
                                }));
                      }));
            });
    byte[] withInput =
        proto(
            m -> {
              m.varint(1, 8);
              m.message(
                  7,
                  msg(
                      g -> {
                        g.message(
                            1,
                            msg(
                                n -> {
                                  n.string(4, "Old");
                                  n.message(
                                      5,
                                      msg(
                                          a -> {
                                            a.string(1, "k");
                                            a.varint(3, 4);
                                          }));
                                }));
                        // a tensor type with a field this reader does not know (number 9)
                        g.message(
                            11,
                            msg(
                                v -> {
                                  v.string(1, "odd");
                                  v.message(
                                      2,
                                      msg(
                                          tp ->
                                              tp.message(
                                                  1,
                                                  msg(
                                                      tt -> {
                                                        tt.varint(1, 1);
                                                        tt.varint(9, 5);
                                                      }))));
                                }));
                      }));
              m.message(8, msg(o -> o.varint(2, 17)));
            });
    ModelGraph a = OnnxReader.read(write(dir.resolve("a.onnx"), model));
    Node n = a.graph().nodes().get(0);
    assertThat(n.attribute("k").orElseThrow().type()).isEqualTo(Attribute.Type.INT);
    assertThat(n.attribute("k").orElseThrow().asLong()).isEqualTo(4);
    Attribute mixed = n.attribute("mixed").orElseThrow();
    assertThat(mixed.asFloat()).isEqualTo(0.5f);
    assertThat(OnnxTestSupport.fields(mixed.preserved())).isEqualTo("{3/0:09 }");

    ModelGraph b = OnnxReader.read(write(dir.resolve("b.onnx"), withInput));
    ValueInfo odd = b.graph().inputs().get(0);
    assertThat(odd.hasTensorType()).isFalse();
    assertThat(odd.preservedType().fields()).hasSize(1);
    Path out = dir.resolve("b2.onnx");
    OnnxWriter.write(b, out);
    assertThat(describe(OnnxReader.read(out))).isEqualTo(describe(b));
  }

  @Test
  void writerOptionsAreValidated() {
    assertThat(OnnxWriter.Options.externalData(0).withDataFileName("w.bin").dataFileName())
        .isEqualTo("w.bin");
    for (String bad : new String[] {"", "../w.bin", "sub/w.bin", ".."}) {
      assertThat(
              org.assertj.core.api.Assertions.catchThrowable(
                  () -> OnnxWriter.Options.defaults().withDataFileName(bad)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("dataFileName");
    }
    assertThat(
            org.assertj.core.api.Assertions.catchThrowable(
                () -> OnnxWriter.Options.defaults().withAlignment(3)))
        .hasMessageContaining("alignment must be a positive power of two, found 3");
  }

  static WireMessage tensor(
      String name, int dtype, long[] dims, java.util.function.Consumer<WireMessage> data) {
    return msg(
        t -> {
          for (long d : dims) {
            t.varint(1, d);
          }
          t.varint(2, dtype);
          t.string(8, name);
          data.accept(t);
        });
  }

  static void packedFloats(WireMessage t, float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    t.bytes(4, b.array());
  }

  static void packedVarints(WireMessage t, int field, long... v) {
    t.bytes(field, varints(v));
  }

  static byte[] varints(long... v) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (long x : v) {
      while ((x & ~0x7FL) != 0) {
        out.write((int) ((x & 0x7F) | 0x80));
        x >>>= 7;
      }
      out.write((int) x);
    }
    return out.toByteArray();
  }

  static byte[] le(int width, long bits) {
    ByteBuffer b = ByteBuffer.allocate(width).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    if (width == 8) {
      b.putLong(bits);
    } else {
      b.putInt((int) bits);
    }
    return b.array();
  }
}
