package dev.compress.api.io.onnx;

import dev.compress.api.CorruptCheckpointException;
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
import dev.compress.api.io.onnx.OnnxSchema.Kind;
import dev.compress.api.io.onnx.OnnxSchema.Model;
import dev.compress.api.io.onnx.OnnxSchema.NodeF;
import dev.compress.api.io.onnx.OnnxSchema.Opset;
import dev.compress.api.io.onnx.OnnxSchema.TensorF;
import dev.compress.api.io.onnx.OnnxSchema.TypeF;
import dev.compress.api.io.onnx.OnnxSchema.ValueInfoF;
import dev.compress.api.io.onnx.WireReader.LongList;
import dev.compress.api.io.onnx.WireReader.Segment;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Reads an ONNX model ({@code ModelProto}) into a {@link ModelGraph}.
 *
 * <p>The file is memory-mapped and decoded by a hand-written, bounds-checked protobuf decoder.
 * Weights stored as {@code raw_data} become slices of the mapping, not heap copies; external-data
 * tensors are mapped from their own files. Fields the IR does not model are kept as {@link
 * PreservedFields} (or {@link Tensor#preservedBytes()}) at every level, so {@link OnnxWriter}
 * writes them back unchanged. (Exceptions: unknown fields inside an opset import or a metadata
 * entry, and external-data keys other than location/offset/length, which are rewritten anyway.)
 * Typed data fields ({@code float_data}, {@code int32_data}, ...) become little-endian raw bytes,
 * {@code int32_data} narrowed as ONNX specifies for 8/16-bit and packed types.
 *
 * <p>External data: {@code location} is resolved against the model's folder (absolute paths and
 * {@code ..} escapes are rejected), {@code offset}/{@code length} are checked against the file, and
 * each tensor gets its own read-only mapping (a tensor over 2 GiB is not supported).
 *
 * <p>Anything malformed ends in a {@link CorruptCheckpointException} naming the file, the byte
 * offset and the field path; lengths are checked against the bytes left before anything is
 * allocated, and subgraph nesting is capped at {@value #MAX_GRAPH_DEPTH} levels. A file that is
 * recognizably something else (text such as a tokenizer.json, a zip, a pickle, safetensors) is
 * refused as "not an ONNX model" before decoding, and a file that is not a regular file (a FIFO)
 * before it is opened. The decoded graph is checked with {@link GraphCheck}: a broken rule is a
 * {@link CorruptCheckpointException} naming the node and the value; nodes merely out of topological
 * order are sorted and reported through the {@code notes} of {@link #read(Path, Consumer)}. Nodes
 * that do not conform to their operator's signature at the imported opset ({@link OpsetCheck}) are
 * a note too, not a refusal: ONNX Runtime may still load the model.
 *
 * <p>The returned tensors stay valid while the model is reachable; the file must not be truncated
 * or rewritten in place meanwhile (write a new model to another path and rename it).
 */
public final class OnnxReader {
  /** Deepest nesting of subgraphs accepted (the main graph is level 1). */
  public static final int MAX_GRAPH_DEPTH = 64;

  private static final int MAX_RANK = 1024;

  private final Path file;
  private final Path dir;
  private final ByteBuffer buf;
  private final Map<Path, FileChannel> externalFiles = new HashMap<>();

  private OnnxReader(Path file, ByteBuffer buf) {
    this.file = file;
    Path parent = file.toAbsolutePath().normalize().getParent();
    this.dir = parent == null ? Path.of("").toAbsolutePath() : parent;
    this.buf = buf;
  }

  /**
   * Reads the model in {@code file}.
   *
   * @throws IOException if the file (not an external-data file) cannot be opened or mapped
   * @throws CorruptCheckpointException if the content is malformed or inconsistent, the file is
   *     over the 2 GiB protobuf limit, or an external-data file is missing or too short
   */
  public static ModelGraph read(Path file) throws IOException, CorruptCheckpointException {
    return read(file, null, note -> {});
  }

  /**
   * Reads the model in {@code file} like {@link #read(Path)} and adds to {@code externalFiles}
   * every external-data file its tensors were read from (absolute, as resolved against the model's
   * folder).
   *
   * @param externalFiles receives the external-data files; null to skip
   */
  public static ModelGraph read(Path file, Set<Path> externalFiles)
      throws IOException, CorruptCheckpointException {
    return read(file, externalFiles, note -> {});
  }

  /**
   * Reads the model in {@code file}, telling {@code notes} (one line each) what was repaired on the
   * way: today only nodes that were not in topological order and were sorted.
   *
   * @throws IOException if the file (not an external-data file) cannot be opened or mapped
   * @throws CorruptCheckpointException as {@link #read(Path)}
   */
  public static ModelGraph read(Path file, Consumer<String> notes)
      throws IOException, CorruptCheckpointException {
    return read(file, null, notes);
  }

  /**
   * Reads the model in {@code file}, collecting its external-data files and the reader's notes.
   *
   * @param externalFiles receives the external-data files; null to skip
   * @param notes receives what was repaired, one line each
   */
  public static ModelGraph read(Path file, Set<Path> externalFiles, Consumer<String> notes)
      throws IOException, CorruptCheckpointException {
    if (Files.exists(file) && !Files.isRegularFile(file)) {
      // A FIFO or device would block in open() or cannot be mapped: refuse it before opening.
      throw new CorruptCheckpointException(
          file, -1, "not a regular file (" + fileKind(file) + "); an ONNX model must be a file");
    }
    ByteBuffer mapped;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size > Integer.MAX_VALUE) {
        throw new CorruptCheckpointException(
            file,
            -1,
            "file is "
                + size
                + " bytes, over the 2 GiB protobuf limit; models this large keep their weights in"
                + " external-data files");
      }
      mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
    }
    return decode(file, mapped, externalFiles, notes);
  }

  /** What kind of non-regular file {@code p} is, in words. */
  private static String fileKind(Path p) {
    if (Files.isDirectory(p)) {
      return "a directory";
    }
    try {
      Object mode = Files.getAttribute(p, "unix:mode");
      if (mode instanceof Integer m) {
        return switch (m & 0170000) {
          case 0010000 -> "a named pipe (FIFO)";
          case 0020000 -> "a character device";
          case 0060000 -> "a block device";
          case 0140000 -> "a socket";
          default -> "not a plain file";
        };
      }
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      // no unix attributes here: fall through to the generic words
    }
    return "a pipe, device or socket";
  }

  /**
   * Decodes a model held in {@code content} (little-endian, the whole file); {@code file} names it
   * in errors and anchors external-data locations.
   */
  static ModelGraph decode(Path file, ByteBuffer content) throws CorruptCheckpointException {
    return decode(file, content, null, note -> {});
  }

  private static ModelGraph decode(
      Path file, ByteBuffer content, Set<Path> externalFiles, Consumer<String> notes)
      throws CorruptCheckpointException {
    NotOnnx.check(file, content.order(ByteOrder.LITTLE_ENDIAN));
    OnnxReader r = new OnnxReader(file, content);
    ModelGraph m;
    try {
      m = r.model();
    } catch (IndexOutOfBoundsException
        | BufferUnderflowException
        | IllegalArgumentException
        | ArithmeticException e) {
      // Defence in depth: the decoder checks bounds itself, so this is a bug, but the caller still
      // gets the one exception type the contract promises.
      throw new CorruptCheckpointException(file, -1, "malformed model: " + e, e);
    } finally {
      if (externalFiles != null) {
        externalFiles.addAll(r.externalFiles.keySet());
      }
      r.closeExternalFiles();
    }
    List<GraphCheck.Problem> errors = GraphCheck.errors(m);
    if (!errors.isEmpty()) {
      throw new CorruptCheckpointException(file, -1, GraphCheck.summary(errors));
    }
    List<GraphCheck.Problem> unsorted = GraphCheck.problems(m);
    if (!unsorted.isEmpty()) { // only OUT_OF_ORDER problems are left
      GraphCheck.sortNodes(m);
      notes.accept(
          file
              + ": "
              + unsorted.getFirst().message()
              + "; the nodes were sorted into topological order (as ONNX Runtime does) and are"
              + " written sorted");
    }
    OpsetCheck.Result conformance = OpsetCheck.check(m);
    if (!conformance.ok()) { // ONNX Runtime may accept it: a note, not a refusal
      notes.accept(
          file
              + ": does not conform to the ONNX operator specification at the opsets it imports: "
              + conformance.summary()
              + " (it is read as it is; `compress inspect --check` lists every violation)");
    }
    return m;
  }

  private ModelGraph model() throws CorruptCheckpointException {
    WireReader c = new WireReader(buf, file, Kind.MODEL, "", 0, buf.limit());
    ModelGraph m = new ModelGraph(0, null);
    int opsets = 0;
    int meta = 0;
    while (c.next()) {
      switch (c.field()) {
        case Model.IR_VERSION -> m.setIrVersion(c.varint());
        case Model.PRODUCER_NAME -> m.setProducerName(c.string());
        case Model.PRODUCER_VERSION -> m.setProducerVersion(c.string());
        case Model.DOMAIN -> m.setDomain(c.string());
        case Model.MODEL_VERSION -> m.setModelVersion(c.varint());
        case Model.DOC_STRING -> m.setDocString(c.string());
        case Model.GRAPH -> m.setGraph(graph(c.message(Kind.GRAPH, -1), 1));
        case Model.OPSET_IMPORT -> opset(c.message(Kind.OPSET, opsets++), m.opsetImports());
        case Model.METADATA_PROPS -> entry(c.message(Kind.ENTRY, meta++), m.metadata());
        default -> c.preserve(m.preserved());
      }
    }
    if (m.graph() == null) {
      throw c.errorAt(
          buf.limit(), "model has no graph (field 7): not an ONNX model, or a truncated one");
    }
    if (m.irVersion() >= 3 && m.opsetImports().isEmpty()) {
      throw c.errorAt(
          buf.limit(),
          "model of IR version " + m.irVersion() + " has no opset_import (truncated file?)");
    }
    return m;
  }

  private static void opset(WireReader c, Map<String, Long> into)
      throws CorruptCheckpointException {
    String domain = "";
    long version = 0;
    while (c.next()) {
      switch (c.field()) {
        case Opset.DOMAIN -> domain = c.string();
        case Opset.VERSION -> version = c.varint();
        default -> c.skip();
      }
    }
    into.put(domain, version);
  }

  private static void entry(WireReader c, Map<String, String> into)
      throws CorruptCheckpointException {
    String key = "";
    String value = "";
    while (c.next()) {
      switch (c.field()) {
        case Entry.KEY -> key = c.string();
        case Entry.VALUE -> value = c.string();
        default -> c.skip();
      }
    }
    into.put(key, value);
  }

  private Graph graph(WireReader c, int depth) throws CorruptCheckpointException {
    if (depth > MAX_GRAPH_DEPTH) {
      throw c.messageError("subgraphs nested deeper than " + MAX_GRAPH_DEPTH + " levels");
    }
    Graph g = new Graph("");
    int inits = 0;
    int meta = 0;
    while (c.next()) {
      switch (c.field()) {
        case GraphF.NODE -> g.nodes().add(node(c.message(Kind.NODE, g.nodes().size()), depth));
        case GraphF.NAME -> g.setName(c.string());
        case GraphF.INITIALIZER -> {
          int at = c.fieldStart();
          Tensor t = tensor(c.message(Kind.TENSOR, inits++));
          if (g.initializers().putIfAbsent(t.name(), t) != null) {
            throw c.errorAt(at, c.where() + ": duplicate initializer '" + t.name() + "'");
          }
        }
        case GraphF.DOC_STRING -> g.setDocString(c.string());
        case GraphF.INPUT ->
            g.inputs().add(valueInfo(c.message(Kind.VALUE_INFO, g.inputs().size())));
        case GraphF.OUTPUT ->
            g.outputs().add(valueInfo(c.message(Kind.VALUE_INFO, g.outputs().size())));
        case GraphF.VALUE_INFO ->
            g.valueInfo().add(valueInfo(c.message(Kind.VALUE_INFO, g.valueInfo().size())));
        case GraphF.METADATA_PROPS -> entry(c.message(Kind.ENTRY, meta++), g.metadata());
        default -> c.preserve(g.preserved());
      }
    }
    return g;
  }

  private Node node(WireReader c, int depth) throws CorruptCheckpointException {
    String name = "";
    String opType = null;
    String domain = "";
    String overload = "";
    String doc = "";
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    List<Attribute> attrs = new ArrayList<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    PreservedFields preserved = new PreservedFields();
    while (c.next()) {
      switch (c.field()) {
        case NodeF.INPUT -> inputs.add(c.string());
        case NodeF.OUTPUT -> outputs.add(c.string());
        case NodeF.NAME -> name = c.string();
        case NodeF.OP_TYPE -> opType = c.string();
        case NodeF.ATTRIBUTE ->
            attrs.add(attribute(c.message(Kind.ATTRIBUTE, attrs.size()), depth));
        case NodeF.DOC_STRING -> doc = c.string();
        case NodeF.DOMAIN -> domain = c.string();
        case NodeF.OVERLOAD -> overload = c.string();
        case NodeF.METADATA_PROPS -> entry(c.message(Kind.ENTRY, metadata.size()), metadata);
        default -> c.preserve(preserved);
      }
    }
    if (opType == null) {
      throw c.messageError("node '" + name + "' has no op_type");
    }
    Node n = new Node(name, opType, domain, inputs, outputs);
    n.setOverload(overload);
    n.setDocString(doc);
    n.metadata().putAll(metadata);
    n.preserved().addAll(preserved);
    for (Attribute a : attrs) {
      if (n.attributes().putIfAbsent(a.name(), a) != null) {
        throw c.messageError("node '" + name + "' has two attributes named '" + a.name() + "'");
      }
    }
    return n;
  }

  private Attribute attribute(WireReader c, int depth) throws CorruptCheckpointException {
    String name = "";
    String doc = "";
    String ref = "";
    Integer typeCode = null; // absent in IR version 1 files
    Float f = null;
    Long i = null;
    byte[] s = null;
    Tensor t = null;
    Graph g = null;
    List<Float> floats = new ArrayList<>();
    List<Long> ints = new ArrayList<>();
    List<byte[]> strings = new ArrayList<>();
    List<Tensor> tensors = new ArrayList<>();
    List<Graph> graphs = new ArrayList<>();
    PreservedFields values =
        new PreservedFields(); // each value field, raw, until the type is known
    PreservedFields preserved = new PreservedFields();
    while (c.next()) {
      int field = c.field();
      if (field >= AttrF.F && field <= AttrF.GRAPHS) {
        c.preserve(values);
        c.rewindValue();
      }
      switch (field) {
        case AttrF.NAME -> name = c.string();
        case AttrF.F -> f = c.float32();
        case AttrF.I -> i = c.varint();
        case AttrF.S -> s = c.byteArray();
        case AttrF.T -> t = tensor(c.message(Kind.TENSOR, -1));
        case AttrF.G -> g = graph(c.message(Kind.GRAPH, -1), depth + 1);
        case AttrF.FLOATS -> c.floats(floats);
        case AttrF.INTS -> {
          LongList l = new LongList();
          c.longs(l, Integer.MAX_VALUE - 8);
          for (long v : l.toArray()) {
            ints.add(v);
          }
        }
        case AttrF.STRINGS -> strings.add(c.byteArray());
        case AttrF.TENSORS -> tensors.add(tensor(c.message(Kind.TENSOR, tensors.size())));
        case AttrF.GRAPHS -> graphs.add(graph(c.message(Kind.GRAPH, graphs.size()), depth + 1));
        case AttrF.DOC_STRING -> doc = c.string();
        case AttrF.REF_ATTR_NAME -> ref = c.string();
        case AttrF.TYPE -> {
          typeCode = c.int32();
          if (Attribute.Type.fromCode(typeCode) == Attribute.Type.UNDEFINED) {
            c.rewindValue();
            c.preserve(preserved); // an unknown type code is kept as it was
          }
        }
        default -> c.preserve(preserved); // sparse tensors, type protos, future fields
      }
    }
    Attribute.Type type = Attribute.Type.UNDEFINED;
    if (typeCode != null) {
      type = Attribute.Type.fromCode(typeCode);
    } else if (!values.isEmpty()) { // no type field: the value present decides (F, I, S, T, ...)
      int lowest = values.fields().stream().mapToInt(PreservedFields.Field::number).min().orElse(0);
      type = Attribute.Type.fromCode(lowest - 1);
    }
    int valueField =
        switch (type) {
          case FLOAT, INT, STRING, TENSOR, GRAPH, FLOATS, INTS, STRINGS, TENSORS, GRAPHS ->
              type.code() + 1;
          default -> -1;
        };
    PreservedFields all = new PreservedFields();
    for (PreservedFields.Field r : values.fields()) {
      if (r.number() != valueField) {
        all.add(r.number(), r.wireType(), r.payload()); // a value of another type: keep it raw
      }
    }
    all.addAll(preserved);
    boolean isRef = !ref.isEmpty();
    Object value =
        switch (type) {
          case FLOAT -> f != null ? f : isRef ? null : 0f;
          case INT -> i != null ? i : isRef ? null : 0L;
          case STRING -> s != null ? s : isRef ? null : new byte[0];
          case TENSOR -> t;
          case GRAPH -> g;
          case FLOATS -> List.copyOf(floats);
          case INTS -> List.copyOf(ints);
          case STRINGS -> List.copyOf(strings);
          case TENSORS -> List.copyOf(tensors);
          case GRAPHS -> List.copyOf(graphs);
          default -> null;
        };
    if (value == null
        && !isRef
        && (type == Attribute.Type.TENSOR || type == Attribute.Type.GRAPH)) {
      throw c.messageError("attribute '" + name + "' of type " + type + " has no value");
    }
    return new Attribute(name, type, value, ref, doc, all);
  }

  private ValueInfo valueInfo(WireReader c) throws CorruptCheckpointException {
    String name = "";
    String doc = "";
    TypeView type = new TypeView(0, null, false, null);
    Map<String, String> metadata = new LinkedHashMap<>();
    PreservedFields preserved = new PreservedFields();
    while (c.next()) {
      switch (c.field()) {
        case ValueInfoF.NAME -> name = c.string();
        case ValueInfoF.TYPE -> type = type(c.message(Kind.TYPE, -1));
        case ValueInfoF.DOC_STRING -> doc = c.string();
        case ValueInfoF.METADATA_PROPS -> entry(c.message(Kind.ENTRY, metadata.size()), metadata);
        default -> c.preserve(preserved);
      }
    }
    return new ValueInfo(
        name, type.elem, type.shape, type.tensor, doc, metadata, type.preserved, preserved);
  }

  private record TypeView(
      int elem, List<ValueInfo.Dim> shape, boolean tensor, PreservedFields preserved) {}

  /**
   * A TypeProto. Tensor types are modelled; everything else is kept raw. If a tensor type holds a
   * field this reader does not know, the whole type is kept raw instead, so nothing is lost.
   */
  private TypeView type(WireReader c) throws CorruptCheckpointException {
    PreservedFields preserved = new PreservedFields();
    boolean tensor = false;
    boolean opaque = false;
    int elem = 0;
    List<ValueInfo.Dim> shape = null;
    while (c.next()) {
      if (c.field() != TypeF.TENSOR_TYPE) {
        c.preserve(preserved);
        continue;
      }
      WireReader t = c.message(Kind.TENSOR_TYPE, -1);
      tensor = true;
      while (t.next()) {
        switch (t.field()) {
          case TypeF.ELEM_TYPE -> elem = t.int32();
          case TypeF.SHAPE -> {
            shape = new ArrayList<>();
            WireReader s = t.message(Kind.SHAPE, -1);
            while (s.next()) {
              if (s.field() == TypeF.DIM) {
                shape.add(dim(s.message(Kind.DIM, shape.size())));
              } else {
                opaque = true;
                s.skip();
              }
            }
          }
          default -> {
            opaque = true;
            t.skip();
          }
        }
      }
    }
    if (opaque) {
      PreservedFields all = new PreservedFields();
      WireReader r = c.rescan();
      while (r.next()) {
        r.preserve(all);
      }
      return new TypeView(0, null, false, all);
    }
    return new TypeView(elem, shape, tensor, preserved);
  }

  private static ValueInfo.Dim dim(WireReader c) throws CorruptCheckpointException {
    long value = -1;
    String param = "";
    PreservedFields preserved = new PreservedFields();
    while (c.next()) {
      switch (c.field()) {
        case TypeF.DIM_VALUE -> {
          long v = c.varint();
          if (v >= 0) {
            value = v;
          } else { // the IR uses -1 for "not fixed": keep a negative value as it was written
            c.rewindValue();
            c.preserve(preserved);
          }
        }
        case TypeF.DIM_PARAM -> param = c.string();
        default -> c.preserve(preserved);
      }
    }
    return new ValueInfo.Dim(value, param, preserved);
  }

  private Tensor tensor(WireReader c) throws CorruptCheckpointException {
    LongList dims = new LongList();
    int code = 0;
    String name = "";
    String doc = "";
    ByteBuffer raw = null;
    int location = 0;
    Map<String, String> external = new LinkedHashMap<>();
    List<Segment> typed = new ArrayList<>();
    List<byte[]> strings = new ArrayList<>();
    ByteArrayOutputStream extra = new ByteArrayOutputStream();
    while (c.next()) {
      switch (c.field()) {
        case TensorF.DIMS -> c.longs(dims, MAX_RANK);
        case TensorF.DATA_TYPE -> code = c.int32();
        case TensorF.FLOAT_DATA -> typed.add(c.segment(4));
        case TensorF.DOUBLE_DATA -> typed.add(c.segment(8));
        case TensorF.INT32_DATA, TensorF.INT64_DATA, TensorF.UINT64_DATA -> typed.add(c.segment(0));
        case TensorF.STRING_DATA -> strings.add(c.byteArray());
        case TensorF.NAME -> name = c.string();
        case TensorF.RAW_DATA -> raw = c.bytes();
        case TensorF.DOC_STRING -> doc = c.string();
        case TensorF.EXTERNAL_DATA -> entry(c.message(Kind.ENTRY, external.size()), external);
        case TensorF.DATA_LOCATION -> location = c.int32();
        default -> {
          ByteBuffer f = c.rawField();
          byte[] b = new byte[f.remaining()];
          f.get(b);
          extra.writeBytes(b);
        }
      }
    }
    if (code == 0) {
      throw c.messageError("tensor '" + name + "' has no data_type (UNDEFINED)");
    }
    DataType dtype = DataType.fromOnnx(code).orElse(null);
    if (dtype == null) {
      throw c.messageError("tensor '" + name + "' has unknown data_type code " + code);
    }
    long[] shape = dims.toArray();
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw c.messageError("tensor '" + name + "' has a negative dimension in " + dimsOf(shape));
      }
      if (d != 0 && n > Long.MAX_VALUE / d) {
        throw c.messageError(
            "tensor '" + name + "' element count of " + dimsOf(shape) + " overflows");
      }
      n *= d;
    }
    Tensor t;
    if (dtype == DataType.STRING) {
      if (raw != null || !typed.isEmpty() || location == TensorF.LOCATION_EXTERNAL) {
        throw c.messageError("STRING tensor '" + name + "' must hold its values in string_data");
      }
      if (strings.size() != n) {
        throw c.messageError(
            "tensor '"
                + name
                + "' has "
                + strings.size()
                + " strings, shape "
                + dimsOf(shape)
                + " needs "
                + n);
      }
      t = Tensor.ofStrings(name, shape, strings);
    } else {
      if (!strings.isEmpty()) {
        throw c.messageError("tensor '" + name + "' of type " + dtype + " has string_data");
      }
      long bytes = n > Long.MAX_VALUE / 8 ? Long.MAX_VALUE : dtype.byteSize(n);
      String what = dtype + " " + dimsOf(shape) + " needs " + bytes + " bytes";
      ByteBuffer data;
      if (location == TensorF.LOCATION_EXTERNAL) {
        data = externalData(c, name, external, bytes, what);
      } else if (raw != null) {
        if (!typed.isEmpty()) {
          throw c.messageError("tensor '" + name + "' has both raw_data and typed data fields");
        }
        if (raw.remaining() != bytes) {
          throw c.messageError(
              "tensor '" + name + "': raw_data has " + raw.remaining() + " bytes, " + what);
        }
        data = raw;
      } else if (!typed.isEmpty()) {
        data = typedData(c, name, dtype, bytes, typed);
      } else if (n == 0) {
        data = ByteBuffer.allocate(0);
      } else {
        throw c.messageError(
            "tensor '"
                + name
                + "' has no data (no raw_data, typed data or external data); "
                + what);
      }
      t = Tensor.of(name, dtype, shape, data);
    }
    if (!doc.isEmpty()) {
      t = t.withDocString(doc);
    }
    if (extra.size() > 0) {
      t = t.withPreservedBytes(ByteBuffer.wrap(extra.toByteArray()));
    }
    return t;
  }

  /**
   * Converts typed data fields to little-endian raw bytes, narrowing {@code int32_data} as ONNX
   * specifies: one element per value for 8/16-bit types (fp16/bf16/fp8 as bit patterns in the low
   * bits), one packed byte (two 4-bit or four 2-bit elements) per value for sub-byte types.
   */
  private static ByteBuffer typedData(
      WireReader c, String name, DataType dtype, long bytes, List<Segment> segments)
      throws CorruptCheckpointException {
    int field = segments.get(0).field();
    for (Segment s : segments) {
      if (s.field() != field) {
        throw c.messageError("tensor '" + name + "' mixes two typed data fields");
      }
    }
    int width = typedWidth(field, dtype); // output bytes per stored value
    String fieldName = Kind.TENSOR.fieldName(field);
    if (width == 0) {
      throw c.messageError(
          "tensor '" + name + "' of type " + dtype + " cannot hold its values in " + fieldName);
    }
    long count = 0;
    for (Segment s : segments) {
      count += s.count();
    }
    if (count * width != bytes) {
      throw c.errorAt(
          segments.get(0).fieldStart(),
          c.path()
              + "."
              + fieldName
              + ": tensor '"
              + name
              + "' has "
              + count
              + " values, "
              + dtype
              + " needs "
              + bytes / width);
    }
    if (bytes > Integer.MAX_VALUE - 8) {
      throw c.messageError(
          "tensor '"
              + name
              + "' is "
              + bytes
              + " bytes in "
              + fieldName
              + "; typed data over 2 GiB"
              + " is not supported (use raw_data or external data)");
    }
    ByteBuffer out = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer in = c.buffer();
    int[] at = new int[1];
    for (Segment s : segments) {
      switch (field) {
        case TensorF.FLOAT_DATA -> out.put(in.slice(s.from(), s.to() - s.from()));
        case TensorF.DOUBLE_DATA -> out.put(in.slice(s.from(), s.to() - s.from()));
        default -> {
          at[0] = s.from();
          for (int k = 0; k < s.count(); k++) {
            long v = c.varintAt(at);
            switch (width) {
              case 1 -> out.put((byte) v);
              case 2 -> out.putShort((short) v);
              case 4 -> out.putInt((int) v);
              default -> out.putLong(v);
            }
          }
        }
      }
    }
    return out.flip();
  }

  /** Bytes each value of {@code field} becomes for {@code dtype}; 0 when the pair is invalid. */
  private static int typedWidth(int field, DataType dtype) {
    return switch (field) {
      case TensorF.FLOAT_DATA -> dtype == DataType.FLOAT || dtype == DataType.COMPLEX64 ? 4 : 0;
      case TensorF.DOUBLE_DATA -> dtype == DataType.DOUBLE || dtype == DataType.COMPLEX128 ? 8 : 0;
      case TensorF.INT64_DATA -> dtype == DataType.INT64 ? 8 : 0;
      case TensorF.UINT64_DATA -> dtype == DataType.UINT64 ? 8 : dtype == DataType.UINT32 ? 4 : 0;
      case TensorF.INT32_DATA ->
          switch (dtype) {
            case INT32 -> 4;
            case INT16, UINT16, FLOAT16, BFLOAT16 -> 2;
            case INT8,
                UINT8,
                BOOL,
                FLOAT8E4M3FN,
                FLOAT8E4M3FNUZ,
                FLOAT8E5M2,
                FLOAT8E5M2FNUZ,
                FLOAT8E8M0 ->
                1;
            case INT4, UINT4, FLOAT4E2M1, INT2, UINT2 -> 1; // one packed byte per value
            default -> 0;
          };
      default -> 0;
    };
  }

  /**
   * Maps an external-data tensor: {@code location} relative to the model's folder (absolute paths
   * and escapes are rejected), {@code offset}/{@code length} checked against the file size.
   */
  private ByteBuffer externalData(
      WireReader c, String name, Map<String, String> info, long bytes, String what)
      throws CorruptCheckpointException {
    String label = "tensor '" + name + "'";
    String location = info.get("location");
    if (location == null || location.isEmpty()) {
      throw c.messageError(label + " has external data without a location");
    }
    Path rel;
    try {
      rel = Path.of(location);
    } catch (InvalidPathException e) {
      throw c.messageError(label + ": invalid external-data location '" + location + "'");
    }
    if (rel.isAbsolute() || rel.getRoot() != null || location.startsWith("/")) {
      throw c.messageError(
          label
              + ": external-data location '"
              + location
              + "' is absolute; it must be relative"
              + " to the model's folder");
    }
    Path target = dir.resolve(rel).normalize();
    if (!target.startsWith(dir) || target.equals(dir)) {
      throw c.messageError(
          label + ": external-data location '" + location + "' escapes the model's folder " + dir);
    }
    long offset = number(c, label, info, "offset", 0);
    long length = number(c, label, info, "length", bytes);
    if (length != bytes) {
      throw c.messageError(label + ": external data length " + length + ", " + what);
    }
    if (bytes > Integer.MAX_VALUE) {
      throw c.messageError(
          label + " is " + bytes + " bytes of external data; tensors over 2 GiB are not supported");
    }
    FileChannel ch = externalFiles.get(target);
    try {
      if (ch == null) {
        if (Files.exists(target) && !Files.isRegularFile(target)) {
          throw c.messageError(
              label
                  + ": external-data file "
                  + target
                  + " is "
                  + fileKind(target)
                  + ", not a file");
        }
        ch = FileChannel.open(target, StandardOpenOption.READ);
        externalFiles.put(target, ch);
      }
      long size = ch.size();
      if (offset > size || length > size - offset) {
        throw c.messageError(
            label
                + ": external data at offset "
                + offset
                + ", length "
                + length
                + " runs past the end of "
                + target
                + " ("
                + size
                + " bytes)");
      }
      return ch.map(FileChannel.MapMode.READ_ONLY, offset, length).order(ByteOrder.LITTLE_ENDIAN);
    } catch (NoSuchFileException e) {
      throw c.messageError(label + ": external-data file " + target + " is missing");
    } catch (IOException e) {
      throw new CorruptCheckpointException(
          file, c.start(), label + ": cannot read external-data file " + target + ": " + e, e);
    }
  }

  private static long number(
      WireReader c, String label, Map<String, String> info, String key, long dflt)
      throws CorruptCheckpointException {
    String v = info.get(key);
    if (v == null) {
      return dflt;
    }
    try {
      long n = Long.parseLong(v.trim());
      if (n < 0) {
        throw new NumberFormatException("negative");
      }
      return n;
    } catch (NumberFormatException e) {
      throw c.messageError(label + ": external data " + key + " '" + v + "' is not a valid number");
    }
  }

  private static String dimsOf(long[] shape) {
    return Arrays.toString(shape);
  }

  private void closeExternalFiles() {
    for (FileChannel ch : externalFiles.values()) {
      try {
        ch.close(); // mappings stay valid after the channel closes
      } catch (IOException ignored) {
        // nothing to recover: the mappings are already made
      }
    }
  }
}
