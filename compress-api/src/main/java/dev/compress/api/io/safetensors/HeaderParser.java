package dev.compress.api.io.safetensors;

import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A strict JSON parser for the safetensors header, driven by the header's schema rather than
 * building a generic document tree.
 *
 * <p>Strict means RFC 8259 syntax (no comments, trailing commas, single quotes, leading zeros,
 * unescaped control characters or lone surrogate escapes), valid UTF-8, duplicate keys rejected at
 * every level, and unknown fields in a tensor entry rejected. Only the header's shape is accepted:
 * an object of tensor entries and an optional {@code "__metadata__"} object of strings; so nesting
 * is at most three levels deep by construction and the parser needs no recursion. Memory is linear
 * in the header size, which the reader caps before calling this; a shape may hold at most {@link
 * #MAX_RANK} dimensions.
 *
 * <p>Every error is a {@link CorruptCheckpointException} whose offset is the file offset (8 plus
 * the header byte index) of the problem.
 */
final class HeaderParser {
  /** Most dimensions a tensor may have; real checkpoints use fewer than ten. */
  static final int MAX_RANK = 1024;

  /** The reserved key of the metadata object. */
  static final String METADATA_KEY = "__metadata__";

  /** Bytes before the header: the little-endian length prefix. */
  private static final int PREFIX = 8;

  /** Characters of a name or value shown in a message before it is cut. */
  private static final int MAX_SHOWN = 80;

  /**
   * One tensor entry as declared by the header, checked on its own (dtype known, shape valid, byte
   * span matching the shape) but not yet against the data section or the other entries.
   *
   * @param name tensor name
   * @param dtype element type
   * @param shape dimensions (not shared)
   * @param begin data section offset of the first byte
   * @param end data section offset past the last byte
   * @param fileOffset file offset of the entry in the header, for messages
   */
  record Entry(String name, DataType dtype, long[] shape, long begin, long end, long fileOffset) {
    long size() {
      return end - begin;
    }
  }

  /**
   * The parsed header.
   *
   * @param entries tensor entries in header order
   * @param metadata the {@code __metadata__} strings in header order (empty if absent)
   */
  record Header(List<Entry> entries, Map<String, String> metadata) {}

  private final Path file;
  private final byte[] b;
  private int pos;

  private HeaderParser(Path file, byte[] header) {
    this.file = file;
    this.b = header;
  }

  /** Parses and checks {@code header} (the bytes after the length prefix) of {@code file}. */
  static Header parse(Path file, byte[] header) throws CorruptCheckpointException {
    checkUtf8(file, header);
    return new HeaderParser(file, header).parseHeader();
  }

  /** Shows a name or string value quoted, cut to a readable length. */
  static String quote(String s) {
    if (s.length() <= MAX_SHOWN) {
      return "'" + s + "'";
    }
    return "'" + s.substring(0, MAX_SHOWN) + "...' (" + s.length() + " chars)";
  }

  /** The dtype as safetensors spells it, for messages. */
  static String dtypeName(DataType t) {
    return t.safetensorsName().orElse(t.name());
  }

  private static void checkUtf8(Path file, byte[] header) throws CorruptCheckpointException {
    CharsetDecoder dec =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(header);
    CharBuffer out = CharBuffer.allocate(8192); // decoded in chunks: only validity matters here
    while (true) {
      CoderResult r = dec.decode(in, out, true);
      if (r.isError()) {
        throw new CorruptCheckpointException(
            file,
            PREFIX + in.position(),
            "safetensors header is not valid UTF-8 (malformed sequence at header byte "
                + in.position()
                + ")");
      }
      if (r.isUnderflow()) {
        return;
      }
      out.clear();
    }
  }

  private Header parseHeader() throws CorruptCheckpointException {
    skipWs(); // JSON allows it, and so does the reference implementation
    if (peek() != '{') {
      throw fail("safetensors header must be a JSON object, found " + describe());
    }
    pos++;
    Set<String> keys = new HashSet<>();
    List<Entry> entries = new ArrayList<>();
    Map<String, String> metadata = Map.of();
    skipWs();
    if (peek() == '}') {
      pos++;
    } else {
      while (true) {
        skipWs();
        int keyPos = pos;
        String key = parseString("a tensor name");
        if (!keys.add(key)) {
          throw failAt(keyPos, "duplicate key " + quote(key) + " in the header");
        }
        skipWs();
        expect(':', "after key " + quote(key));
        skipWs();
        if (key.equals(METADATA_KEY)) {
          metadata = parseMetadata();
        } else {
          entries.add(parseEntry(key));
        }
        skipWs();
        if (peek() == '}') {
          pos++;
          break;
        }
        expect(',', "or '}' after the value of " + quote(key));
      }
    }
    skipWs(); // the format pads the header with spaces
    if (pos != b.length) {
      throw fail("unexpected " + describe() + " after the header object");
    }
    return new Header(entries, metadata);
  }

  private Map<String, String> parseMetadata() throws CorruptCheckpointException {
    if (peek() != '{') {
      throw fail(METADATA_KEY + " must be an object of strings, found " + describe());
    }
    pos++;
    Map<String, String> out = new LinkedHashMap<>();
    skipWs();
    if (peek() == '}') {
      pos++;
      return out;
    }
    while (true) {
      skipWs();
      int keyPos = pos;
      String key = parseString("a " + METADATA_KEY + " key");
      if (out.containsKey(key)) {
        throw failAt(keyPos, "duplicate key " + quote(key) + " in " + METADATA_KEY);
      }
      skipWs();
      expect(':', "after " + METADATA_KEY + " key " + quote(key));
      skipWs();
      if (peek() != '"') {
        throw fail(METADATA_KEY + " " + quote(key) + " must be a string, found " + describe());
      }
      out.put(key, parseString("a string"));
      skipWs();
      if (peek() == '}') {
        pos++;
        return Collections.unmodifiableMap(out);
      }
      expect(',', "or '}' in " + METADATA_KEY);
    }
  }

  private Entry parseEntry(String name) throws CorruptCheckpointException {
    String t = "tensor " + quote(name);
    int entryPos = pos;
    if (peek() != '{') {
      throw fail(t + ": expected an object {dtype, shape, data_offsets}, found " + describe());
    }
    pos++;
    String dtype = null;
    int dtypePos = -1;
    long[] shape = null;
    long[] offsets = null;
    int offsetsPos = -1;
    skipWs();
    if (peek() == '}') {
      pos++;
    } else {
      while (true) {
        skipWs();
        int fieldPos = pos;
        String field = parseString(t + " field name");
        skipWs();
        expect(':', "after " + t + " field " + quote(field));
        skipWs();
        boolean duplicate;
        switch (field) {
          case "dtype" -> {
            duplicate = dtype != null;
            dtypePos = pos;
            if (!duplicate) {
              if (peek() != '"') {
                throw fail(t + ": dtype must be a string, found " + describe());
              }
              dtype = parseString(t + " dtype");
            }
          }
          case "shape" -> {
            duplicate = shape != null;
            if (!duplicate) {
              shape = parseIndexArray(t + ": shape", MAX_RANK);
            }
          }
          case "data_offsets" -> {
            duplicate = offsets != null;
            offsetsPos = pos;
            if (!duplicate) {
              offsets = parseIndexArray(t + ": data_offsets", 2);
            }
          }
          default -> throw failAt(fieldPos, t + ": unknown field " + quote(field));
        }
        if (duplicate) {
          throw failAt(fieldPos, t + ": duplicate field '" + field + "'");
        }
        skipWs();
        if (peek() == '}') {
          pos++;
          break;
        }
        expect(',', "or '}' in " + t);
      }
    }
    if (dtype == null) {
      throw failAt(entryPos, t + ": missing field 'dtype'");
    }
    if (shape == null) {
      throw failAt(entryPos, t + ": missing field 'shape'");
    }
    if (offsets == null) {
      throw failAt(entryPos, t + ": missing field 'data_offsets'");
    }
    DataType type = DataType.fromSafetensors(dtype).orElse(null);
    if (type == null) {
      throw failAt(dtypePos, t + ": unknown dtype " + quote(dtype));
    }
    if (offsets.length != 2) {
      throw failAt(
          offsetsPos,
          t + ": data_offsets must be [begin, end], found " + offsets.length + " entries");
    }
    long begin = offsets[0];
    long end = offsets[1];
    String declared = dtypeName(type) + " " + Arrays.toString(shape);
    long needed;
    try {
      needed = type.byteSize(Tensor.elementCount(shape));
    } catch (ArithmeticException e) {
      throw failAt(entryPos, t + ": " + declared + " has a byte size beyond 64 bits");
    }
    if (end < begin) {
      throw failAt(
          offsetsPos, t + ": data_offsets [" + begin + ", " + end + "] end before they begin");
    }
    if (end - begin != needed) {
      throw failAt(
          offsetsPos,
          t
              + ": data_offsets ["
              + begin
              + ", "
              + end
              + "] span "
              + (end - begin)
              + " bytes but "
              + declared
              + " needs "
              + needed);
    }
    return new Entry(name, type, shape, begin, end, PREFIX + (long) entryPos);
  }

  /** An array of non-negative integers (shape dims or offsets), at most {@code max} long. */
  private long[] parseIndexArray(String what, int max) throws CorruptCheckpointException {
    if (peek() != '[') {
      throw fail(what + " must be an array of integers, found " + describe());
    }
    pos++;
    long[] buf = new long[Math.min(max, 8)];
    int n = 0;
    skipWs();
    if (peek() == ']') {
      pos++;
      return new long[0];
    }
    while (true) {
      skipWs();
      if (n == max) {
        throw fail(what + " has more than " + max + " entries");
      }
      long v = parseIndex(what, n);
      if (n == buf.length) {
        buf = Arrays.copyOf(buf, Math.min(max, n * 2));
      }
      buf[n++] = v;
      skipWs();
      if (peek() == ']') {
        pos++;
        return Arrays.copyOf(buf, n);
      }
      expect(',', "or ']' in " + what);
    }
  }

  /** A JSON number that must be a non-negative integer fitting a long. */
  private long parseIndex(String what, int index) throws CorruptCheckpointException {
    int start = pos;
    boolean negative = false;
    boolean integral = true;
    if (peek() == '-') {
      negative = true;
      pos++;
    }
    if (peek() == '0') {
      pos++;
    } else if (isDigit(peek())) {
      while (isDigit(peek())) {
        pos++;
      }
    } else {
      throw failAt(
          start, what + "[" + index + "] must be a non-negative integer, found " + describe(start));
    }
    int intEnd = pos;
    if (peek() == '.') {
      integral = false;
      pos++;
      requireDigits(what);
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      requireDigits(what);
    }
    if (negative || !integral) {
      throw failAt(
          start,
          what + "[" + index + "] must be a non-negative integer, found " + lexeme(start, pos));
    }
    long v = 0;
    for (int i = start; i < intEnd; i++) {
      int d = b[i] - '0';
      if (v > (Long.MAX_VALUE - d) / 10) {
        throw failAt(start, what + "[" + index + "] is too large: " + lexeme(start, intEnd));
      }
      v = v * 10 + d;
    }
    return v;
  }

  private void requireDigits(String what) throws CorruptCheckpointException {
    if (!isDigit(peek())) {
      throw fail("malformed number in " + what + ": expected a digit, found " + describe());
    }
    while (isDigit(peek())) {
      pos++;
    }
  }

  /** A JSON string; {@code what} says what was expected, for the message. */
  private String parseString(String what) throws CorruptCheckpointException {
    if (peek() != '"') {
      throw fail("expected " + what + " (a JSON string), found " + describe());
    }
    int open = pos++;
    StringBuilder sb = new StringBuilder();
    int run = pos; // start of the current stretch of literal bytes
    while (true) {
      if (pos >= b.length) {
        throw failAt(open, "unterminated string starting at header byte " + open);
      }
      int c = b[pos] & 0xff;
      if (c == '"') {
        appendRun(sb, run);
        pos++;
        return sb.toString();
      } else if (c == '\\') {
        appendRun(sb, run);
        pos++;
        parseEscape(sb);
        run = pos;
      } else if (c < 0x20) {
        throw fail(String.format("unescaped control character 0x%02x in a string", c));
      } else {
        pos++;
      }
    }
  }

  private void appendRun(StringBuilder sb, int run) {
    // Runs end only at ASCII bytes and the header is known to be valid UTF-8, so each run decodes
    // without replacement characters.
    if (pos > run) {
      sb.append(new String(b, run, pos - run, StandardCharsets.UTF_8));
    }
  }

  private void parseEscape(StringBuilder sb) throws CorruptCheckpointException {
    int escPos = pos - 1;
    int c = peek();
    pos++;
    switch (c) {
      case '"' -> sb.append('"');
      case '\\' -> sb.append('\\');
      case '/' -> sb.append('/');
      case 'b' -> sb.append('\b');
      case 'f' -> sb.append('\f');
      case 'n' -> sb.append('\n');
      case 'r' -> sb.append('\r');
      case 't' -> sb.append('\t');
      case 'u' -> {
        char ch = hex4();
        if (Character.isHighSurrogate(ch)) {
          if (peek() != '\\' || peekAt(pos + 1) != 'u') {
            throw failAt(escPos, "unpaired surrogate escape in a string");
          }
          pos += 2;
          char low = hex4();
          if (!Character.isLowSurrogate(low)) {
            throw failAt(escPos, "unpaired surrogate escape in a string");
          }
          sb.append(ch).append(low);
        } else if (Character.isLowSurrogate(ch)) {
          throw failAt(escPos, "unpaired surrogate escape in a string");
        } else {
          sb.append(ch);
        }
      }
      default ->
          throw failAt(escPos, "invalid escape character " + describeChar(c) + " in a string");
    }
  }

  private char hex4() throws CorruptCheckpointException {
    int v = 0;
    for (int i = 0; i < 4; i++) {
      int c = peek();
      int d =
          c >= '0' && c <= '9'
              ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) {
        throw fail("invalid \\u escape: expected a hex digit, found " + describe());
      }
      v = v * 16 + d;
      pos++;
    }
    return (char) v;
  }

  private void expect(char c, String context) throws CorruptCheckpointException {
    if (peek() != c) {
      throw fail("expected '" + c + "' " + context + ", found " + describe());
    }
    pos++;
  }

  private void skipWs() {
    while (pos < b.length) {
      byte c = b[pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private int peek() {
    return peekAt(pos);
  }

  private int peekAt(int i) {
    return i < b.length ? b[i] & 0xff : -1;
  }

  private static boolean isDigit(int c) {
    return c >= '0' && c <= '9';
  }

  private String lexeme(int from, int to) {
    int shown = Math.min(to - from, 40);
    String s = new String(b, from, shown, StandardCharsets.US_ASCII);
    return to - from > shown ? s + "... (" + (to - from) + " chars)" : s;
  }

  private String describe() {
    return describe(pos);
  }

  private String describe(int at) {
    return at >= b.length ? "end of header" : describeChar(b[at] & 0xff);
  }

  private static String describeChar(int c) {
    if (c < 0) {
      return "end of header";
    }
    return c >= 0x20 && c < 0x7f ? "'" + (char) c + "'" : String.format("byte 0x%02x", c);
  }

  private CorruptCheckpointException fail(String detail) {
    return failAt(pos, detail);
  }

  private CorruptCheckpointException failAt(int at, String detail) {
    return new CorruptCheckpointException(file, PREFIX + (long) at, detail);
  }
}
