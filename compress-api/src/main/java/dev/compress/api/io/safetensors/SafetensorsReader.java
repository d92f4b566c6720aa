package dev.compress.api.io.safetensors;

import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.io.safetensors.HeaderParser.Entry;
import dev.compress.api.io.safetensors.HeaderParser.Header;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads safetensors files, validating the whole header before anything is memory-mapped.
 *
 * <p>Checks, each failing with a {@link CorruptCheckpointException} that names the file, the byte
 * offset and the tensor or field:
 *
 * <ul>
 *   <li>the 8-byte header length fits the file and is at most {@link #MAX_HEADER_BYTES};
 *   <li>the header is valid UTF-8 and strict JSON: one object, with optional whitespace around it
 *       (writers pad with spaces); duplicate keys are rejected at every level, where the reference
 *       implementation silently keeps one of them;
 *   <li>each tensor entry has exactly the fields {@code dtype}, {@code shape} and {@code
 *       data_offsets}, a dtype this toolkit knows, a shape of non-negative integers, and offsets
 *       spanning exactly {@code elements x dtype size} bytes. Unknown fields are rejected, where
 *       the reference ignores them: a field a future format version adds may change how the bytes
 *       are read, and no current writer emits one;
 *   <li>{@code __metadata__}, if present, is an object of string values;
 *   <li>the tensors, ordered by offset, tile the data section exactly, as the reference
 *       implementation requires: the first starts at 0, each begins where the previous ends, and
 *       the last ends at the end of the file. Overlaps, holes between tensors and trailing bytes
 *       are all rejected (a hole or a trailing byte is never written by a conforming writer, and
 *       usually means a wrong offset or a truncated or concatenated file).
 * </ul>
 *
 * <p>Tensors are then mapped read-only: the data section in one mapping when it is at most 2 GiB,
 * otherwise in consecutive windows of whole tensors, each at most 2 GiB. A single tensor over 2 GiB
 * cannot be one {@link ByteBuffer} and fails with an {@link UnsupportedModelException}.
 */
public final class SafetensorsReader {
  /** Largest header accepted, in bytes (the reference implementation's limit). */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** Largest region one mapping, and so one tensor, may cover. */
  static final long MAX_MAP_BYTES = Integer.MAX_VALUE;

  private static final int PREFIX = 8;

  private SafetensorsReader() {}

  /**
   * Validates the header of {@code file} and maps its tensors.
   *
   * @throws CorruptCheckpointException if the file is not a well-formed safetensors file; the
   *     message names the file and the problem
   * @throws UnsupportedModelException if a tensor is larger than 2 GiB
   * @throws IOException if the file cannot be opened, read or mapped
   */
  public static SafetensorsFile read(Path file)
      throws IOException, CorruptCheckpointException, UnsupportedModelException {
    return read(file, MAX_MAP_BYTES);
  }

  /**
   * As {@link #read(Path)}, with the largest mapping lowered so tests can reach the window path.
   */
  static SafetensorsFile read(Path file, long maxMapBytes)
      throws IOException, CorruptCheckpointException, UnsupportedModelException {
    return read(file, maxMapBytes, null);
  }

  /**
   * One tensor as a header declares it.
   *
   * @param name tensor name
   * @param dtype element type
   * @param shape dimensions (use {@link #shape()}, which copies)
   */
  public record TensorHeader(String name, DataType dtype, long[] shape) {
    /** Copies the shape. */
    public TensorHeader {
      shape = shape.clone();
    }

    /** A copy of the dimensions. */
    @Override
    public long[] shape() {
      return shape.clone();
    }
  }

  /**
   * Validates {@code file} exactly as {@link #read(Path)} does, without mapping anything: for
   * checking a checkpoint's names and shapes before its tensors are mapped.
   *
   * @return the declared tensors by name, in the order of their bytes
   * @throws CorruptCheckpointException if the file is not a well-formed safetensors file
   * @throws UnsupportedModelException if a tensor is larger than 2 GiB
   * @throws IOException if the file cannot be opened or read
   */
  public static Map<String, TensorHeader> readHeader(Path file)
      throws IOException, CorruptCheckpointException, UnsupportedModelException {
    Map<String, TensorHeader> out = new LinkedHashMap<>();
    read(file, MAX_MAP_BYTES, out);
    return out;
  }

  /** Validates, then maps the tensors, or when {@code headerOnly} is given fills it instead. */
  private static SafetensorsFile read(
      Path file, long maxMapBytes, Map<String, TensorHeader> headerOnly)
      throws IOException, CorruptCheckpointException, UnsupportedModelException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long fileSize = ch.size();
      if (fileSize < PREFIX) {
        throw new CorruptCheckpointException(
            file,
            0,
            "file is "
                + fileSize
                + " bytes, too short for the 8-byte safetensors header length (truncated?)");
      }
      ByteBuffer prefix = ByteBuffer.allocate(PREFIX).order(ByteOrder.LITTLE_ENDIAN);
      readFully(file, ch, prefix, 0);
      long n = prefix.getLong(0); // unsigned
      if (Long.compareUnsigned(n, fileSize - PREFIX) > 0) {
        throw new CorruptCheckpointException(
            file,
            0,
            "header length "
                + Long.toUnsignedString(n)
                + " exceeds file size "
                + fileSize
                + " (truncated, or not a safetensors file?)");
      }
      if (n > MAX_HEADER_BYTES) {
        throw new CorruptCheckpointException(
            file, 0, "header length " + n + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
      }
      byte[] headerBytes = new byte[(int) n];
      readFully(file, ch, ByteBuffer.wrap(headerBytes), PREFIX);
      Header header = HeaderParser.parse(file, headerBytes);

      long dataStart = PREFIX + n;
      List<Entry> layout = checkLayout(file, header.entries(), dataStart, fileSize - dataStart);
      for (Entry e : layout) {
        if (e.size() > maxMapBytes) {
          throw new UnsupportedModelException(
              file
                  + ": tensor "
                  + HeaderParser.quote(e.name())
                  + " is "
                  + e.size()
                  + " bytes; tensors over "
                  + maxMapBytes
                  + " bytes cannot be memory-mapped as one buffer");
        }
      }
      if (headerOnly != null) {
        for (Entry e : layout) {
          headerOnly.put(e.name(), new TensorHeader(e.name(), e.dtype(), e.shape()));
        }
        return null;
      }
      return new SafetensorsFile(file, map(ch, layout, dataStart, maxMapBytes), header.metadata());
    }
  }

  /** Orders entries by offset and checks that they tile the data section exactly. */
  private static List<Entry> checkLayout(
      Path file, List<Entry> entries, long dataStart, long dataLength)
      throws CorruptCheckpointException {
    // Range first: a tensor past the end usually means truncation, the clearer message.
    for (Entry e : entries) {
      if (e.end() > dataLength) {
        throw new CorruptCheckpointException(
            file,
            e.fileOffset(),
            "tensor "
                + HeaderParser.quote(e.name())
                + ": data_offsets ["
                + e.begin()
                + ", "
                + e.end()
                + "] reach beyond the data section of "
                + dataLength
                + " bytes (file truncated?)");
      }
    }
    List<Entry> sorted = new ArrayList<>(entries);
    // Stable: empty tensors at one offset keep their header order.
    sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long expected = 0;
    Entry prev = null;
    for (Entry e : sorted) {
      if (e.begin() < expected) {
        throw new CorruptCheckpointException(
            file, dataStart + e.begin(), "tensors " + span(prev) + " and " + span(e) + " overlap");
      }
      if (e.begin() > expected) {
        throw new CorruptCheckpointException(
            file,
            dataStart + expected,
            "hole of "
                + (e.begin() - expected)
                + " unused bytes "
                + (prev == null ? "at the start of the data section" : "after " + span(prev))
                + " before "
                + span(e)
                + "; safetensors data must be contiguous");
      }
      expected = e.end();
      prev = e;
    }
    if (expected != dataLength) {
      throw new CorruptCheckpointException(
          file,
          dataStart + expected,
          (prev == null ? "header declares no tensors but" : "after the last tensor " + span(prev))
              + " the data section holds "
              + (dataLength - expected)
              + " more bytes");
    }
    return sorted;
  }

  private static String span(Entry e) {
    return HeaderParser.quote(e.name()) + " [" + e.begin() + ", " + e.end() + ")";
  }

  /** Maps consecutive tensors in windows of at most {@code maxMapBytes} and slices them. */
  private static Map<String, Tensor> map(
      FileChannel ch, List<Entry> layout, long dataStart, long maxMapBytes) throws IOException {
    Map<String, Tensor> out = new LinkedHashMap<>();
    int i = 0;
    while (i < layout.size()) {
      Entry first = layout.get(i);
      if (first.size() == 0) {
        out.put(first.name(), tensor(first, ByteBuffer.allocate(0)));
        i++;
        continue;
      }
      long windowStart = first.begin();
      int j = i;
      while (j < layout.size() && layout.get(j).end() - windowStart <= maxMapBytes) {
        j++;
      }
      long windowEnd = layout.get(j - 1).end();
      MappedByteBuffer window =
          ch.map(FileChannel.MapMode.READ_ONLY, dataStart + windowStart, windowEnd - windowStart);
      for (; i < j; i++) {
        Entry e = layout.get(i);
        out.put(e.name(), tensor(e, window.slice((int) (e.begin() - windowStart), (int) e.size())));
      }
    }
    return out;
  }

  private static Tensor tensor(Entry e, ByteBuffer bytes) {
    return Tensor.of(e.name(), e.dtype(), e.shape(), bytes);
  }

  private static void readFully(Path file, FileChannel ch, ByteBuffer dst, long position)
      throws IOException, CorruptCheckpointException {
    long at = position;
    while (dst.hasRemaining()) {
      int r = ch.read(dst, at);
      if (r < 0) {
        throw new CorruptCheckpointException(file, at, "unexpected end of file (file shrank?)");
      }
      at += r;
    }
  }
}
