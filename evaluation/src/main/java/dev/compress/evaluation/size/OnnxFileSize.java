package dev.compress.evaluation.size;

import dev.compress.api.CompressionException;
import dev.compress.api.CorruptCheckpointException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Bytes on disk of an ONNX model: the file itself plus every external-data file its tensors name.
 *
 * <p>The ONNX file is scanned as raw protobuf for {@code TensorProto.external_data} entries with
 * key {@code location}: in graph initializers, sparse initializers, tensor-valued node attributes,
 * and subgraphs (If/Loop bodies) at any depth. Locations are resolved against the model's folder
 * and each distinct file is counted once, whole (several tensors usually share one file).
 */
public final class OnnxFileSize {
  private OnnxFileSize() {}

  /**
   * The model's files and their total size.
   *
   * @param files the ONNX file first, then its external-data files in the order first named
   * @param bytes their total size
   */
  public record Sizes(List<Path> files, long bytes) {
    /** Copies the list. */
    public Sizes {
      files = List.copyOf(files);
    }
  }

  // Field numbers from onnx.proto3.
  private static final int MODEL_GRAPH = 7;
  private static final int GRAPH_NODE = 1;
  private static final int GRAPH_INITIALIZER = 5;
  private static final int GRAPH_SPARSE_INITIALIZER = 15;
  private static final int NODE_ATTRIBUTE = 5;
  private static final int ATTR_T = 5;
  private static final int ATTR_G = 6;
  private static final int ATTR_TENSORS = 10;
  private static final int ATTR_GRAPHS = 11;
  private static final int ATTR_SPARSE_TENSOR = 22;
  private static final int ATTR_SPARSE_TENSORS = 23;
  private static final int SPARSE_VALUES = 1;
  private static final int SPARSE_INDICES = 2;
  private static final int TENSOR_EXTERNAL_DATA = 13;
  private static final int ENTRY_KEY = 1;
  private static final int ENTRY_VALUE = 2;

  /**
   * Measures {@code model} and its external data.
   *
   * @throws CorruptCheckpointException when the file is not well-formed protobuf
   * @throws CompressionException when a file cannot be read
   */
  public static Sizes of(Path model) throws CompressionException {
    Set<String> locations = new LinkedHashSet<>();
    try (FileChannel ch = FileChannel.open(model, StandardOpenOption.READ)) {
      ByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
      for (Field f : fields(model, buf, 0)) {
        if (f.number == MODEL_GRAPH && f.value != null) {
          graph(model, f, locations);
        }
      }
    } catch (IOException e) {
      throw new CompressionException("cannot read " + model + ": " + e.getMessage(), e);
    }
    List<Path> files = new ArrayList<>();
    files.add(model);
    Path dir = model.toAbsolutePath().getParent();
    for (String loc : locations) {
      files.add(dir.resolve(loc).normalize());
    }
    long total = 0;
    for (Path p : files) {
      try {
        total += Files.size(p);
      } catch (IOException e) {
        throw new CompressionException(
            "cannot read the size of " + p + " (external data of " + model + "): " + e, e);
      }
    }
    return new Sizes(files, total);
  }

  private static void graph(Path file, Field g, Set<String> out) throws CorruptCheckpointException {
    for (Field f : fields(file, g.value, g.offset)) {
      if (f.value == null) {
        continue;
      }
      switch (f.number) {
        case GRAPH_INITIALIZER -> tensor(file, f, out);
        case GRAPH_SPARSE_INITIALIZER -> sparse(file, f, out);
        case GRAPH_NODE -> node(file, f, out);
        default -> {}
      }
    }
  }

  private static void node(Path file, Field n, Set<String> out) throws CorruptCheckpointException {
    for (Field f : fields(file, n.value, n.offset)) {
      if (f.number != NODE_ATTRIBUTE || f.value == null) {
        continue;
      }
      for (Field a : fields(file, f.value, f.offset)) {
        if (a.value == null) {
          continue;
        }
        switch (a.number) {
          case ATTR_T, ATTR_TENSORS -> tensor(file, a, out);
          case ATTR_G, ATTR_GRAPHS -> graph(file, a, out);
          case ATTR_SPARSE_TENSOR, ATTR_SPARSE_TENSORS -> sparse(file, a, out);
          default -> {}
        }
      }
    }
  }

  private static void sparse(Path file, Field s, Set<String> out)
      throws CorruptCheckpointException {
    for (Field f : fields(file, s.value, s.offset)) {
      if ((f.number == SPARSE_VALUES || f.number == SPARSE_INDICES) && f.value != null) {
        tensor(file, f, out);
      }
    }
  }

  private static void tensor(Path file, Field t, Set<String> out)
      throws CorruptCheckpointException {
    for (Field f : fields(file, t.value, t.offset)) {
      if (f.number != TENSOR_EXTERNAL_DATA || f.value == null) {
        continue;
      }
      String key = null;
      String value = null;
      for (Field e : fields(file, f.value, f.offset)) {
        if (e.value == null) {
          continue;
        }
        if (e.number == ENTRY_KEY) {
          key = StandardCharsets.UTF_8.decode(e.value).toString();
        } else if (e.number == ENTRY_VALUE) {
          value = StandardCharsets.UTF_8.decode(e.value).toString();
        }
      }
      if ("location".equals(key) && value != null) {
        out.add(value);
      }
    }
  }

  /**
   * A field: its number, for length-delimited fields its bytes (null otherwise), and the file
   * offset of those bytes.
   */
  private record Field(int number, ByteBuffer value, long offset) {}

  /** The top-level fields of one message. */
  private static List<Field> fields(Path file, ByteBuffer msg, long base)
      throws CorruptCheckpointException {
    ByteBuffer b = msg.duplicate();
    List<Field> out = new ArrayList<>();
    while (b.hasRemaining()) {
      long tag = varint(file, b, base);
      int number = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      switch (wire) {
        case 0 -> varint(file, b, base);
        case 1 -> skip(file, b, base, 8);
        case 5 -> skip(file, b, base, 4);
        case 2 -> {
          long len = varint(file, b, base);
          if (len < 0 || len > b.remaining()) {
            throw new CorruptCheckpointException(
                file,
                base + b.position(),
                "field " + number + " length " + len + " overruns its message");
          }
          int start = b.position();
          b.position(start + (int) len);
          out.add(new Field(number, b.slice(start, (int) len), base + start));
          continue;
        }
        default ->
            throw new CorruptCheckpointException(
                file, base + b.position(), "unsupported protobuf wire type " + wire);
      }
      out.add(new Field(number, null, -1));
    }
    return out;
  }

  private static void skip(Path file, ByteBuffer b, long base, int n)
      throws CorruptCheckpointException {
    if (b.remaining() < n) {
      throw new CorruptCheckpointException(
          file, base + b.position(), "truncated fixed-width field");
    }
    b.position(b.position() + n);
  }

  private static long varint(Path file, ByteBuffer b, long base) throws CorruptCheckpointException {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!b.hasRemaining()) {
        throw new CorruptCheckpointException(file, base + b.position(), "truncated varint");
      }
      byte x = b.get();
      v |= (long) (x & 0x7f) << shift;
      if (x >= 0) {
        return v;
      }
    }
    throw new CorruptCheckpointException(file, base + b.position(), "varint longer than 10 bytes");
  }
}
