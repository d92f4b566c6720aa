package dev.compress.api.io.onnx;

import static dev.compress.api.io.onnx.OnnxSchema.FIXED32;
import static dev.compress.api.io.onnx.OnnxSchema.FIXED64;
import static dev.compress.api.io.onnx.OnnxSchema.LEN;
import static dev.compress.api.io.onnx.OnnxSchema.VARINT;

import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.graph.PreservedFields;
import dev.compress.api.io.onnx.OnnxSchema.Kind;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A bounds-checked cursor over one protobuf message inside a buffer (usually a whole memory-mapped
 * file). Every read checks the bytes left in the message before touching the buffer, so corrupt
 * input ends in a {@link CorruptCheckpointException} naming the file, the byte offset and the field
 * path ({@code graph.initializer[12].raw_data}), never in an index exception or a huge allocation.
 *
 * <p>Use: {@code while (r.next()) switch (r.field()) { ... }}, calling exactly one value method (or
 * {@link #preserve}/{@link #skip}) per field.
 */
final class WireReader {
  private static final int MAX_FIELD_NUMBER = (1 << 29) - 1;

  private final ByteBuffer buf; // absolute access only; little-endian
  private final Path file;
  private final Kind kind;
  private final String path;
  private final int start;
  private final int end;
  private int pos;
  private int field; // 0 before the first tag
  private int wire;
  private int fieldStart; // offset of the current field's tag
  private int valueStart; // offset just after the current field's tag

  WireReader(ByteBuffer buf, Path file, Kind kind, String path, int start, int end) {
    this.buf = buf;
    this.file = file;
    this.kind = kind;
    this.path = path;
    this.start = start;
    this.end = end;
    this.pos = start;
  }

  /** Advances to the next field; false at the end of the message. */
  boolean next() throws CorruptCheckpointException {
    if (pos >= end) {
      return false;
    }
    fieldStart = pos;
    field = 0;
    long tag = rawVarint();
    long number = tag >>> 3;
    wire = (int) (tag & 7);
    if (number == 0 || number > MAX_FIELD_NUMBER) {
      throw errorAt(fieldStart, where() + ": invalid field number " + number);
    }
    field = (int) number;
    if (wire == 3 || wire == 4) {
      throw error("wire type " + wire + " (protobuf groups) is not used by ONNX");
    }
    if (wire != VARINT && wire != FIXED64 && wire != LEN && wire != FIXED32) {
      throw error("unknown wire type " + wire);
    }
    valueStart = pos;
    return true;
  }

  int field() {
    return field;
  }

  int wire() {
    return wire;
  }

  /** The current message's path, e.g. {@code graph.node[3]}. */
  String path() {
    return path;
  }

  /** Offset of the current field's tag. */
  int fieldStart() {
    return fieldStart;
  }

  /** Offset where this message starts. */
  int start() {
    return start;
  }

  long varint() throws CorruptCheckpointException {
    expect(VARINT);
    return rawVarint();
  }

  /** An int32/enum field: the low 32 bits of the varint, as protobuf does. */
  int int32() throws CorruptCheckpointException {
    return (int) varint();
  }

  float float32() throws CorruptCheckpointException {
    expect(FIXED32);
    need(4, "float");
    float f = buf.getFloat(pos);
    pos += 4;
    return f;
  }

  /** Length-delimited bytes as a slice of the buffer (no copy). */
  ByteBuffer bytes() throws CorruptCheckpointException {
    int len = length();
    ByteBuffer b = buf.slice(pos, len);
    pos += len;
    return b;
  }

  /** Length-delimited bytes copied to the heap (for names and small values). */
  byte[] byteArray() throws CorruptCheckpointException {
    int len = length();
    byte[] b = new byte[len];
    buf.get(pos, b);
    pos += len;
    return b;
  }

  String string() throws CorruptCheckpointException {
    return new String(byteArray(), StandardCharsets.UTF_8);
  }

  /** The embedded message of the current field; {@code index >= 0} marks a repeated one. */
  WireReader message(Kind childKind, int index) throws CorruptCheckpointException {
    int len = length();
    String name = kind.fieldName(field);
    String child =
        (path.isEmpty() ? name : path + "." + name) + (index >= 0 ? "[" + index + "]" : "");
    WireReader r = new WireReader(buf, file, childKind, child, pos, pos + len);
    pos += len;
    return r;
  }

  /** A fresh cursor over this whole message, from its first field. */
  WireReader rescan() {
    return new WireReader(buf, file, kind, path, start, end);
  }

  /**
   * An int64 field that may be packed (one length-delimited run of varints) or not (one varint per
   * tag); appends the values, at most {@code max} in all (checked before allocating).
   */
  void longs(LongList into, int max) throws CorruptCheckpointException {
    if (wire == VARINT) {
      if (into.size() >= max) {
        throw error("more than " + max + " values");
      }
      into.add(rawVarint());
      return;
    }
    expect(LEN);
    int len = length();
    int stop = pos + len;
    int count = countVarints(pos, stop);
    if (count > max - into.size()) {
      throw error((into.size() + count) + " values, more than " + max);
    }
    into.reserve(count);
    while (pos < stop) {
      into.add(rawVarint());
    }
  }

  /** A float field that may be packed or not; appends the values. */
  void floats(List<Float> into) throws CorruptCheckpointException {
    if (wire == FIXED32) {
      into.add(float32());
      return;
    }
    expect(LEN);
    int len = length();
    if (len % 4 != 0) {
      throw error("packed floats of " + len + " bytes, not a multiple of 4");
    }
    for (int i = 0; i < len; i += 4) {
      into.add(buf.getFloat(pos + i));
    }
    pos += len;
  }

  /**
   * A run of numeric values of the current field: where it lies and how many values it holds,
   * checked but not decoded. {@code width} is 4 or 8 for fixed-width values, 0 for varints.
   */
  Segment segment(int width) throws CorruptCheckpointException {
    int at = fieldStart;
    int single = width == 0 ? VARINT : width == 4 ? FIXED32 : FIXED64;
    if (wire == single) {
      int s = pos;
      if (width == 0) {
        rawVarint();
      } else {
        need(width, "value");
        pos += width;
      }
      return new Segment(field, at, s, pos, 1);
    }
    expect(LEN);
    int len = length();
    int s = pos;
    pos += len;
    if (width == 0) {
      return new Segment(field, at, s, pos, countVarints(s, pos));
    }
    if (len % width != 0) {
      throw errorAt(at, where() + ": " + len + " bytes, not a multiple of " + width);
    }
    return new Segment(field, at, s, pos, len / width);
  }

  /**
   * A located run of packed or single numeric values.
   *
   * @param field the field number
   * @param fieldStart offset of its tag
   * @param from first value byte
   * @param to end of the values
   * @param count number of values
   */
  record Segment(int field, int fieldStart, int from, int to, int count) {}

  /** Decodes the varint at {@code at} (inside a checked segment); returns it, position after. */
  long varintAt(int[] at) {
    long result = 0;
    int p = at[0];
    for (int shift = 0; ; shift += 7) {
      byte b = buf.get(p++);
      result |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        at[0] = p;
        return result;
      }
    }
  }

  /** The buffer, for reading checked segments. */
  ByteBuffer buffer() {
    return buf;
  }

  /** Keeps the current field raw (payload slice, no copy) in {@code into}. */
  void preserve(PreservedFields into) throws CorruptCheckpointException {
    int s = pos;
    int w = wire;
    if (w == LEN) {
      int len = length();
      into.add(field, w, buf.slice(pos, len));
      pos += len;
      return;
    }
    skipValue();
    into.add(field, w, buf.slice(s, pos - s));
  }

  /** Steps back to the start of the current field's value, to read it a second way. */
  void rewindValue() {
    pos = valueStart;
  }

  /** The current field's encoded bytes, tag included (a slice); the cursor moves past it. */
  ByteBuffer rawField() throws CorruptCheckpointException {
    skip();
    return buf.slice(fieldStart, pos - fieldStart);
  }

  void skip() throws CorruptCheckpointException {
    if (wire == LEN) {
      int len = length(); // not "pos += length()": that adds to the position before the prefix
      pos += len;
    } else {
      skipValue();
    }
  }

  private void skipValue() throws CorruptCheckpointException {
    switch (wire) {
      case VARINT -> rawVarint();
      case FIXED64 -> {
        need(8, "fixed64");
        pos += 8;
      }
      case FIXED32 -> {
        need(4, "fixed32");
        pos += 4;
      }
      default -> throw error("unknown wire type " + wire);
    }
  }

  /** Reads a length prefix and checks it against the bytes left, before anything is allocated. */
  private int length() throws CorruptCheckpointException {
    expect(LEN);
    long len = rawVarint();
    int left = end - pos;
    if (len < 0 || len > left) {
      throw error(
          "length "
              + Long.toUnsignedString(len)
              + " runs past the end of the message ("
              + left
              + " bytes left)");
    }
    return (int) len;
  }

  private long rawVarint() throws CorruptCheckpointException {
    int s = pos;
    long result = 0;
    for (int i = 0; ; i++) {
      if (i == 10) {
        throw errorAt(s, where() + ": varint longer than 10 bytes");
      }
      if (pos >= end) {
        throw errorAt(s, where() + ": varint runs past the end of the message");
      }
      byte b = buf.get(pos++);
      result |= (long) (b & 0x7f) << (7 * i);
      if (b >= 0) {
        return result;
      }
    }
  }

  /**
   * Number of varints in {@code [from, to)}; each must end inside the range and be short enough.
   */
  private int countVarints(int from, int to) throws CorruptCheckpointException {
    int n = 0;
    int run = 0;
    for (int p = from; p < to; p++) {
      if (buf.get(p) >= 0) {
        n++;
        run = 0;
      } else if (++run == 10) {
        throw errorAt(p - 9, where() + ": varint longer than 10 bytes");
      }
    }
    if (run > 0) {
      throw errorAt(to - run, where() + ": packed varint runs past the end of its field");
    }
    return n;
  }

  private void need(int n, String what) throws CorruptCheckpointException {
    if (end - pos < n) {
      throw error(what + " of " + n + " bytes runs past the end (" + (end - pos) + " bytes left)");
    }
  }

  private void expect(int w) throws CorruptCheckpointException {
    if (wire != w) {
      throw error("wire type " + wire + " where " + w + " was expected");
    }
  }

  /** The current field's path, e.g. {@code graph.initializer[12].raw_data}. */
  String where() {
    if (field == 0) {
      return path.isEmpty() ? "tag" : path + ".tag";
    }
    String name = kind.fieldName(field);
    return path.isEmpty() ? name : path + "." + name;
  }

  /** An error about the current field, at its tag's offset. */
  CorruptCheckpointException error(String detail) {
    return errorAt(fieldStart, where() + ": " + detail);
  }

  /** An error about this message as a whole, at its start. */
  CorruptCheckpointException messageError(String detail) {
    return errorAt(start, (path.isEmpty() ? "model" : path) + ": " + detail);
  }

  CorruptCheckpointException errorAt(int offset, String message) {
    return new CorruptCheckpointException(file, offset, message);
  }

  /** A growable array of longs. */
  static final class LongList {
    private long[] a = new long[8];
    private int n;

    void add(long v) {
      if (n == a.length) {
        a = Arrays.copyOf(a, n * 2);
      }
      a[n++] = v;
    }

    void reserve(int more) {
      if (n + more > a.length) {
        a = Arrays.copyOf(a, n + more);
      }
    }

    int size() {
      return n;
    }

    long[] toArray() {
      return Arrays.copyOf(a, n);
    }
  }
}
