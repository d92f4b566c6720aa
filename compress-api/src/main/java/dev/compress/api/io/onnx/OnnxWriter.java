package dev.compress.api.io.onnx;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphCheck;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.OpsetCheck;
import dev.compress.api.graph.PreservedFields;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.io.onnx.OnnxSchema.AttrF;
import dev.compress.api.io.onnx.OnnxSchema.Entry;
import dev.compress.api.io.onnx.OnnxSchema.GraphF;
import dev.compress.api.io.onnx.OnnxSchema.Model;
import dev.compress.api.io.onnx.OnnxSchema.NodeF;
import dev.compress.api.io.onnx.OnnxSchema.Opset;
import dev.compress.api.io.onnx.OnnxSchema.TensorF;
import dev.compress.api.io.onnx.OnnxSchema.TypeF;
import dev.compress.api.io.onnx.OnnxSchema.ValueInfoF;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes a {@link ModelGraph} as an ONNX model file, optionally with its large tensors in one
 * external-data file beside it.
 *
 * <p>The writer computes every message's size first and then streams the file: tensor bytes go from
 * their buffers (often memory-mapped from the model that was read) straight to the file channel,
 * never through one big heap array. Non-string tensors are always written as {@code raw_data}.
 * Fields a reader preserved ({@link PreservedFields}, {@link Tensor#preservedBytes()}) are written
 * back unchanged; the output is deterministic (the same model gives the same bytes).
 *
 * <p>It writes exactly to the given path; writing to a temporary file and renaming it is the
 * caller's concern. Never overwrite the file (or the external-data file) that the model's tensors
 * were read from: they are mapped from it. When external data is written, the data file is complete
 * before the model file is opened.
 */
public final class OnnxWriter {
  /** The largest protobuf message: models above it must keep tensors in external data. */
  public static final long PROTOBUF_LIMIT = Integer.MAX_VALUE;

  private OnnxWriter() {}

  /**
   * How to lay out the output.
   *
   * @param externalData whether tensors of at least {@code externalThreshold} bytes go to an
   *     external-data file; when false they do only if the model would exceed {@link
   *     #PROTOBUF_LIMIT}
   * @param externalThreshold the smallest tensor (in bytes) moved to external data
   * @param dataFileName the external-data file's name, in the model's folder; null for the model's
   *     file name plus {@code .data}
   * @param alignment byte alignment of each tensor's offset in the data file (a power of two)
   */
  public record Options(
      boolean externalData, long externalThreshold, String dataFileName, int alignment) {

    /** Validates the options. */
    public Options {
      if (externalThreshold < 0) {
        throw new IllegalArgumentException(
            "externalThreshold must be >= 0, found " + externalThreshold);
      }
      if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
        throw new IllegalArgumentException(
            "alignment must be a positive power of two, found " + alignment);
      }
      if (dataFileName != null
          && (dataFileName.isEmpty()
              || dataFileName.contains("/")
              || dataFileName.contains("\\")
              || dataFileName.equals(".")
              || dataFileName.equals(".."))) {
        throw new IllegalArgumentException(
            "dataFileName must be a plain file name, found '" + dataFileName + "'");
      }
    }

    /** Inline tensors, switching to external data only above the 2 GiB limit. */
    public static Options defaults() {
      return new Options(false, 1024, null, 4096);
    }

    /** Tensors of at least {@code thresholdBytes} bytes go to the external-data file. */
    public static Options externalData(long thresholdBytes) {
      return new Options(true, thresholdBytes, null, 4096);
    }

    /** These options with another external-data file name. */
    public Options withDataFileName(String name) {
      return new Options(externalData, externalThreshold, name, alignment);
    }

    /** These options with another alignment. */
    public Options withAlignment(int bytes) {
      return new Options(externalData, externalThreshold, dataFileName, bytes);
    }

    String dataFileNameFor(Path model) {
      return dataFileName != null ? dataFileName : model.getFileName() + ".data";
    }
  }

  /** Writes {@code model} to {@code out} with {@link Options#defaults()}. */
  public static void write(ModelGraph model, Path out) throws IOException {
    write(model, out, Options.defaults());
  }

  /**
   * Writes {@code model} to {@code out} (and, when tensors go external, the data file beside it).
   *
   * <p>The graph is checked first ({@link GraphCheck}): nodes out of topological order are sorted
   * in place; any other problem (an input nothing defines, an output nothing computes, a value
   * defined twice, a cycle) throws before a file is opened. So does a node that does not conform to
   * its operator's signature at the opset the model imports ({@link OpsetCheck}).
   *
   * @throws IllegalStateException when the graph breaks a rule of {@link GraphCheck} other than
   *     node order, or of {@link OpsetCheck} (nothing is written)
   * @throws IOException if a file cannot be written, or the model exceeds the 2 GiB protobuf limit
   *     even with its tensors in external data
   */
  public static void write(ModelGraph model, Path out, Options options) throws IOException {
    write(model, out, options, PROTOBUF_LIMIT);
  }

  /** As {@link #write(ModelGraph, Path, Options)} with a lower size limit, for tests. */
  static void write(ModelGraph model, Path out, Options options, long limit) throws IOException {
    Objects.requireNonNull(model.graph(), "model has no graph");
    List<GraphCheck.Problem> errors = GraphCheck.errors(model);
    if (!errors.isEmpty()) {
      throw new IllegalStateException(
          out
              + ": not written, the graph is invalid (a bug in the code that built or edited it): "
              + GraphCheck.summary(errors));
    }
    OpsetCheck.Result conformance = OpsetCheck.check(model);
    if (!conformance.ok()) {
      throw new IllegalStateException(
          out
              + ": not written, a node does not conform to the opset the model imports (a bug in"
              + " the code that built or edited it): "
              + conformance.summary());
    }
    GraphCheck.sortNodes(model); // ONNX requires topological order; a no-op when already sorted
    String dataName = options.dataFileNameFor(out);
    Encoder e = new Encoder(options.externalData(), options, dataName);
    WireMessage msg = e.model(model);
    if (msg.size() > limit && !options.externalData()) {
      e = new Encoder(true, options, dataName);
      msg = e.model(model);
    }
    if (msg.size() > limit) {
      throw new IOException(
          out
              + ": the model proto is "
              + msg.size()
              + " bytes even with tensors of "
              + options.externalThreshold()
              + "+ bytes in external data, over the "
              + limit
              + "-byte protobuf limit");
    }
    if (!e.external.isEmpty()) {
      Path data = out.resolveSibling(dataName);
      if (data.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
        throw new IOException(out + ": the external-data file cannot be the model file itself");
      }
      writeData(data, e.external, e.dataSize);
    }
    try (FileChannel ch = open(out)) {
      WireMessage.Output o = new WireMessage.Output(ch);
      msg.writeTo(o);
      o.flush();
      check(out, o.position(), msg.size());
    }
  }

  /** The model encoded inline into a heap array (small models, tests). */
  static byte[] toBytes(ModelGraph model) {
    return new Encoder(false, Options.defaults(), "unused").model(model).toByteArray();
  }

  private static FileChannel open(Path p) throws IOException {
    return FileChannel.open(
        p,
        StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE);
  }

  private static void writeData(Path data, List<Placed> tensors, long size) throws IOException {
    try (FileChannel ch = open(data)) {
      WireMessage.Output o = new WireMessage.Output(ch);
      for (Placed p : tensors) {
        o.zeros(p.offset - o.position());
        o.write(p.bytes.duplicate());
      }
      o.flush();
      check(data, o.position(), size);
    }
  }

  private static void check(Path p, long written, long expected) {
    if (written != expected) {
      throw new IllegalStateException(
          p + ": wrote " + written + " bytes, computed " + expected + " (encoder bug)");
    }
  }

  /** A tensor's bytes and where they go in the data file. */
  private record Placed(long offset, ByteBuffer bytes) {}

  /** Builds the message tree; collects external tensors when enabled. */
  private static final class Encoder {
    private final boolean useExternal;
    private final long threshold;
    private final int alignment;
    private final String dataName;
    final List<Placed> external = new ArrayList<>();
    long dataSize;

    Encoder(boolean externalData, Options o, String dataName) {
      this.useExternal = externalData;
      this.threshold = o.externalThreshold();
      this.alignment = o.alignment();
      this.dataName = dataName;
    }

    WireMessage model(ModelGraph m) {
      WireMessage w = new WireMessage();
      w.varint(Model.IR_VERSION, m.irVersion());
      w.optString(Model.PRODUCER_NAME, m.producerName());
      w.optString(Model.PRODUCER_VERSION, m.producerVersion());
      w.optString(Model.DOMAIN, m.domain());
      if (m.modelVersion() != 0) {
        w.varint(Model.MODEL_VERSION, m.modelVersion());
      }
      w.optString(Model.DOC_STRING, m.docString());
      w.message(Model.GRAPH, graph(m.graph()));
      for (Map.Entry<String, Long> op : m.opsetImports().entrySet()) {
        WireMessage o = new WireMessage();
        o.optString(Opset.DOMAIN, op.getKey());
        o.varint(Opset.VERSION, op.getValue());
        w.message(Model.OPSET_IMPORT, o);
      }
      entries(w, Model.METADATA_PROPS, m.metadata());
      preserved(w, m.preserved());
      return w;
    }

    WireMessage graph(Graph g) {
      WireMessage w = new WireMessage();
      for (Node n : g.nodes()) {
        w.message(GraphF.NODE, node(n));
      }
      w.optString(GraphF.NAME, g.name());
      for (Map.Entry<String, Tensor> t : g.initializers().entrySet()) {
        w.message(GraphF.INITIALIZER, tensor(t.getKey(), t.getValue(), true));
      }
      w.optString(GraphF.DOC_STRING, g.docString());
      for (ValueInfo v : g.inputs()) {
        w.message(GraphF.INPUT, valueInfo(v));
      }
      for (ValueInfo v : g.outputs()) {
        w.message(GraphF.OUTPUT, valueInfo(v));
      }
      for (ValueInfo v : g.valueInfo()) {
        w.message(GraphF.VALUE_INFO, valueInfo(v));
      }
      entries(w, GraphF.METADATA_PROPS, g.metadata());
      preserved(w, g.preserved());
      return w;
    }

    WireMessage node(Node n) {
      WireMessage w = new WireMessage();
      for (String i : n.inputs()) {
        w.string(NodeF.INPUT, i); // empty names mark omitted optional inputs: keep them
      }
      for (String o : n.outputs()) {
        w.string(NodeF.OUTPUT, o);
      }
      w.optString(NodeF.NAME, n.name());
      w.string(NodeF.OP_TYPE, n.opType());
      for (Attribute a : n.attributes().values()) {
        w.message(NodeF.ATTRIBUTE, attribute(a));
      }
      w.optString(NodeF.DOC_STRING, n.docString());
      w.optString(NodeF.DOMAIN, n.domain());
      w.optString(NodeF.OVERLOAD, n.overload());
      entries(w, NodeF.METADATA_PROPS, n.metadata());
      preserved(w, n.preserved());
      return w;
    }

    WireMessage attribute(Attribute a) {
      WireMessage w = new WireMessage();
      w.string(AttrF.NAME, a.name());
      Object v = a.value();
      if (v != null) {
        switch (a.type()) {
          case FLOAT -> w.float32(AttrF.F, ((Number) v).floatValue());
          case INT -> w.varint(AttrF.I, ((Number) v).longValue());
          case STRING -> w.bytes(AttrF.S, utf8(v));
          case TENSOR -> w.message(AttrF.T, tensor((Tensor) v));
          case GRAPH -> w.message(AttrF.G, graph((Graph) v));
          case FLOATS -> list(v).forEach(x -> w.float32(AttrF.FLOATS, ((Number) x).floatValue()));
          case INTS -> list(v).forEach(x -> w.varint(AttrF.INTS, ((Number) x).longValue()));
          case STRINGS -> list(v).forEach(x -> w.bytes(AttrF.STRINGS, utf8(x)));
          case TENSORS -> list(v).forEach(x -> w.message(AttrF.TENSORS, tensor((Tensor) x)));
          case GRAPHS -> list(v).forEach(x -> w.message(AttrF.GRAPHS, graph((Graph) x)));
          default -> {} // sparse tensors and type protos travel as preserved fields
        }
      }
      w.optString(AttrF.DOC_STRING, a.docString());
      if (a.type() != Attribute.Type.UNDEFINED) {
        w.varint(AttrF.TYPE, a.type().code());
      }
      w.optString(AttrF.REF_ATTR_NAME, a.refAttrName());
      preserved(w, a.preserved());
      return w;
    }

    WireMessage valueInfo(ValueInfo v) {
      WireMessage w = new WireMessage();
      w.string(ValueInfoF.NAME, v.name());
      if (v.hasTensorType() || !v.preservedType().isEmpty()) {
        WireMessage type = new WireMessage();
        if (v.hasTensorType()) {
          WireMessage tt = new WireMessage();
          if (v.elemTypeCode() != 0) {
            tt.varint(TypeF.ELEM_TYPE, v.elemTypeCode());
          }
          if (v.shape() != null) {
            WireMessage shape = new WireMessage();
            for (ValueInfo.Dim d : v.shape()) {
              WireMessage dim = new WireMessage();
              if (d.value() >= 0) {
                dim.varint(TypeF.DIM_VALUE, d.value());
              }
              dim.optString(TypeF.DIM_PARAM, d.param());
              preserved(dim, d.preserved());
              shape.message(TypeF.DIM, dim);
            }
            tt.message(TypeF.SHAPE, shape);
          }
          type.message(TypeF.TENSOR_TYPE, tt);
        }
        preserved(type, v.preservedType());
        w.message(ValueInfoF.TYPE, type);
      }
      w.optString(ValueInfoF.DOC_STRING, v.docString());
      entries(w, ValueInfoF.METADATA_PROPS, v.metadata());
      preserved(w, v.preserved());
      return w;
    }

    /** An attribute tensor: always inline, as onnx's own external-data conversion leaves them. */
    WireMessage tensor(Tensor t) {
      return tensor(t.name(), t, false);
    }

    WireMessage tensor(String name, Tensor t, boolean mayGoExternal) {
      WireMessage w = new WireMessage();
      for (long d : t.shape()) {
        w.varint(TensorF.DIMS, d);
      }
      w.varint(TensorF.DATA_TYPE, t.dtype().onnxCode());
      if (t.dtype() == DataType.STRING) {
        for (byte[] s : t.strings()) {
          w.bytes(TensorF.STRING_DATA, s);
        }
      }
      w.optString(TensorF.NAME, name);
      boolean toFile =
          useExternal
              && mayGoExternal
              && t.dtype() != DataType.STRING
              && t.byteSize() > 0
              && t.byteSize() >= threshold;
      if (t.dtype() != DataType.STRING && !toFile) {
        w.bytes(TensorF.RAW_DATA, t.data());
      }
      w.optString(TensorF.DOC_STRING, t.docString());
      if (toFile) {
        long offset = (dataSize + alignment - 1) & -(long) alignment;
        external.add(new Placed(offset, t.data()));
        dataSize = offset + t.byteSize();
        w.message(TensorF.EXTERNAL_DATA, entry("location", dataName));
        w.message(TensorF.EXTERNAL_DATA, entry("offset", Long.toString(offset)));
        w.message(TensorF.EXTERNAL_DATA, entry("length", Long.toString(t.byteSize())));
        w.varint(TensorF.DATA_LOCATION, TensorF.LOCATION_EXTERNAL);
      }
      w.encoded(t.preservedBytes());
      return w;
    }

    private static void entries(WireMessage w, int field, Map<String, String> m) {
      for (Map.Entry<String, String> e : m.entrySet()) {
        w.message(field, entry(e.getKey(), e.getValue()));
      }
    }

    private static WireMessage entry(String key, String value) {
      WireMessage e = new WireMessage();
      e.string(Entry.KEY, key);
      e.string(Entry.VALUE, value);
      return e;
    }

    private static void preserved(WireMessage w, PreservedFields p) {
      for (PreservedFields.Field f : p.fields()) {
        w.raw(f.number(), f.wireType(), f.payload());
      }
    }

    private static List<?> list(Object v) {
      return (List<?>) v;
    }

    private static byte[] utf8(Object v) {
      return v instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : (byte[]) v;
    }
  }
}
