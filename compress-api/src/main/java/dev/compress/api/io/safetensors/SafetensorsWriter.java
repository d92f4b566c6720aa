package dev.compress.api.io.safetensors;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes safetensors files, streaming each tensor's bytes from its buffer to the file.
 *
 * <p>The output is deterministic: the same tensors and metadata give the same bytes. Tensors are
 * laid out, and listed in the header, in the iteration order of the collection given (so a file
 * read by {@link SafetensorsReader} is written back in its own order); the writer does not reorder
 * them. The header is compact JSON with {@code __metadata__} first (omitted when empty) and its
 * keys sorted, padded with spaces so that the data section starts at a multiple of 8 bytes, as the
 * reference implementation does.
 *
 * <p>The whole header is built, and every tensor checked, before the file is touched; then the
 * tensors go straight from their buffers (memory-mapped or heap) to the file channel, so no
 * whole-file buffer is ever held. The file is written under a temporary name in the same directory
 * and renamed into place, so a reader never sees a half-written file and a model may be rewritten
 * over the file its tensors are mapped from.
 *
 * <p>Safetensors stores only whole-byte numeric types with a safetensors name (see {@link
 * DataType#safetensorsName()}); {@link DataType#STRING}, packed sub-byte types (int4, int2, fp4)
 * and the others without a name are rejected, as are tensors carrying quantization parameters,
 * which the format cannot hold: store scales and zero points as tensors of their own.
 */
public final class SafetensorsWriter {
  private static final int ALIGNMENT = 8;

  /** Heap buffers are written in pieces so the JDK never allocates a direct copy of a whole one. */
  private static final int HEAP_CHUNK = 1 << 20;

  private SafetensorsWriter() {}

  /** As {@link #write(Path, Collection, Map)} with no metadata. */
  public static void write(Path file, Collection<Tensor> tensors) throws IOException {
    write(file, tensors, Map.of());
  }

  /**
   * Writes {@code tensors}, in iteration order, and {@code metadata} to {@code file}, replacing it
   * if it exists.
   *
   * @throws IllegalArgumentException naming the tensor when one cannot be stored in safetensors
   *     (STRING, packed or unnamed dtype, quantization parameters, duplicate or reserved name, a
   *     string that is not valid Unicode), or when the header would exceed {@link
   *     SafetensorsReader#MAX_HEADER_BYTES}
   * @throws IOException if the file cannot be written
   */
  public static void write(Path file, Collection<Tensor> tensors, Map<String, String> metadata)
      throws IOException {
    List<Tensor> list = new ArrayList<>(tensors); // one snapshot for the header and the data
    byte[] header = header(list, metadata);

    Path target = file.toAbsolutePath();
    Path tmp = createTemp(target);
    boolean done = false;
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        writeFully(ch, ByteBuffer.wrap(header));
        for (Tensor t : list) {
          ByteBuffer data = t.data();
          int chunk = data.isDirect() ? Integer.MAX_VALUE : HEAP_CHUNK;
          while (data.hasRemaining()) {
            int n = Math.min(chunk, data.remaining());
            writeFully(ch, data.slice(data.position(), n));
            data.position(data.position() + n);
          }
        }
        ch.force(false);
      }
      try {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      done = true;
    } finally {
      if (!done) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /**
   * The header bytes, length prefix included, for {@code tensors} laid out in order; checks every
   * tensor.
   */
  static byte[] header(List<Tensor> tensors, Map<String, String> metadata) {
    StringBuilder json = new StringBuilder("{");
    Map<String, String> sorted = new TreeMap<>();
    for (Map.Entry<String, String> m : metadata.entrySet()) {
      String key = Objects.requireNonNull(m.getKey(), "metadata key");
      String value = Objects.requireNonNull(m.getValue(), () -> "metadata value for " + quote(key));
      sorted.put(key, value);
    }
    if (!sorted.isEmpty()) {
      appendString(json, HeaderParser.METADATA_KEY, "metadata");
      json.append(":{");
      boolean first = true;
      for (Map.Entry<String, String> m : sorted.entrySet()) {
        if (!first) {
          json.append(',');
        }
        first = false;
        appendString(json, m.getKey(), "metadata key " + quote(m.getKey()));
        json.append(':');
        appendString(json, m.getValue(), "metadata value for " + quote(m.getKey()));
      }
      json.append('}');
    }
    Set<String> names = new HashSet<>();
    long offset = 0;
    for (Tensor t : tensors) {
      Objects.requireNonNull(t, "tensor");
      String what = "tensor " + quote(t.name());
      checkStorable(t, what);
      if (!names.add(t.name())) {
        throw new IllegalArgumentException(what + " appears twice; safetensors names are unique");
      }
      if (json.length() > 1) {
        json.append(',');
      }
      appendString(json, t.name(), what + " name");
      long end = Math.addExact(offset, t.byteSize());
      json.append(":{\"dtype\":\"")
          .append(t.dtype().safetensorsName().orElseThrow())
          .append("\",\"shape\":[");
      long[] shape = t.shape();
      for (int i = 0; i < shape.length; i++) {
        if (i > 0) {
          json.append(',');
        }
        json.append(shape[i]);
      }
      json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
      offset = end;
    }
    json.append('}');

    byte[] body = json.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (body.length + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT; // 8 + padded is aligned
    if (body.length > SafetensorsReader.MAX_HEADER_BYTES - ALIGNMENT) {
      throw new IllegalArgumentException(
          "safetensors header would be "
              + body.length
              + " bytes, over the limit of "
              + SafetensorsReader.MAX_HEADER_BYTES);
    }
    ByteBuffer out = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(padded).put(body);
    while (out.hasRemaining()) {
      out.put((byte) ' ');
    }
    return out.array();
  }

  private static void checkStorable(Tensor t, String what) {
    DataType dtype = t.dtype();
    if (t.name().equals(HeaderParser.METADATA_KEY)) {
      throw new IllegalArgumentException(
          what + ": the name is reserved for the safetensors metadata object");
    }
    if (dtype == DataType.STRING) {
      throw new IllegalArgumentException(
          what + " is STRING; safetensors stores only fixed-size numeric types");
    }
    if (dtype.isPacked()) {
      throw new IllegalArgumentException(
          what
              + " is "
              + dtype
              + ", a packed sub-byte type safetensors cannot represent; store it unpacked (I8/U8)"
              + " or in a format that supports it (ONNX)");
    }
    if (dtype.safetensorsName().isEmpty()) {
      throw new IllegalArgumentException(
          what + " is " + dtype + ", which safetensors has no dtype for");
    }
    if (t.quant().isPresent()) {
      throw new IllegalArgumentException(
          what
              + " carries quantization parameters, which safetensors cannot hold; write the scale"
              + " and zero point as tensors of their own and drop them with withQuant(null)");
    }
  }

  /** Appends {@code s} as a JSON string; rejects unpaired surrogates, which UTF-8 cannot encode. */
  private static void appendString(StringBuilder json, String s, String what) {
    json.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < s.length()
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          json.append(c).append(s.charAt(++i));
          continue;
        }
        throw new IllegalArgumentException(
            what + " holds an unpaired surrogate at index " + i + " and cannot be encoded");
      }
      switch (c) {
        case '"' -> json.append("\\\"");
        case '\\' -> json.append("\\\\");
        case '\n' -> json.append("\\n");
        case '\r' -> json.append("\\r");
        case '\t' -> json.append("\\t");
        case '\b' -> json.append("\\b");
        case '\f' -> json.append("\\f");
        default -> {
          if (c < 0x20) {
            json.append(String.format("\\u%04x", (int) c));
          } else {
            json.append(c);
          }
        }
      }
    }
    json.append('"');
  }

  private static String quote(String s) {
    return HeaderParser.quote(s);
  }

  private static Path createTemp(Path target) throws IOException {
    for (int attempt = 0; ; attempt++) {
      String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong());
      Path tmp = target.resolveSibling("." + target.getFileName() + "." + suffix + ".tmp");
      try {
        // Not Files.createTempFile: its owner-only permissions would end up on the output.
        return Files.createFile(tmp);
      } catch (FileAlreadyExistsException e) {
        if (attempt >= 10) {
          throw e;
        }
      }
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer src) throws IOException {
    while (src.hasRemaining()) {
      ch.write(src);
    }
  }
}
