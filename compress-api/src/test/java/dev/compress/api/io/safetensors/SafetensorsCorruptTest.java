package dev.compress.api.io.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each malformed input fails with a {@link CorruptCheckpointException} naming file and problem. */
class SafetensorsCorruptTest {
  @TempDir Path dir;
  private int count;

  /** A file with {@code json} as its header (unpadded) and {@code dataBytes} zero bytes of data. */
  private Path file(String json, int dataBytes) throws IOException {
    byte[] h = json.getBytes(StandardCharsets.UTF_8);
    return raw(h.length, concat(h, new byte[dataBytes]));
  }

  /** A file with the given header length prefix followed by {@code rest}. */
  private Path raw(long headerLength, byte[] rest) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8 + rest.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(headerLength).put(rest);
    Path p = dir.resolve("bad-" + count++ + ".safetensors");
    Files.write(p, b.array());
    return p;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static String entry(String name, String dtype, String shape, long begin, long end) {
    return String.format(
        "\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%d,%d]}",
        name, dtype, shape, begin, end);
  }

  /** Reads {@code p} and returns the exception, checking its type and that it names the file. */
  private static CorruptCheckpointException assertCorrupt(Path p, String... fragments) {
    Throwable t = catchThrowable(() -> SafetensorsReader.read(p));
    assertThat(t).isExactlyInstanceOf(CorruptCheckpointException.class);
    assertThat(t).hasMessageContaining(p.toString());
    for (String f : fragments) {
      assertThat(t).hasMessageContaining(f);
    }
    return (CorruptCheckpointException) t;
  }

  @Test
  void fileShorterThanTheLengthPrefix() throws IOException {
    Path p = dir.resolve("tiny.safetensors");
    Files.write(p, new byte[] {1, 0, 0});
    assertCorrupt(p, "file is 3 bytes, too short");
  }

  @Test
  void headerLongerThanFile() throws IOException {
    Path p = raw(100, "{}".getBytes(StandardCharsets.US_ASCII));
    assertThat(assertCorrupt(p, "header length 100 exceeds file size 10").offset()).isZero();
  }

  @Test
  void absurdlyLargeHeaderLength() throws IOException {
    assertCorrupt(
        raw(1L << 62, new byte[16]), "header length 4611686018427387904 exceeds file size 24");
    // Above 2^63: the prefix is unsigned.
    assertCorrupt(
        raw(-1L, new byte[16]), "header length 18446744073709551615 exceeds file size 24");
  }

  @Test
  void headerLengthOverTheCapEvenWhenTheFileIsLongEnough() throws IOException {
    Path p = raw(150_000_000L, new byte[0]);
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(200_000_000L); // sparse: no disk or heap spent
    }
    assertCorrupt(p, "header length 150000000 exceeds the limit of 100000000 bytes");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "empty header                 | ``                              | must be a JSON object, found end of header",
        "array                        | []                              | must be a JSON object, found '['",
        "only spaces                  | `   `                           | must be a JSON object, found end of header",
        "unterminated object          | {                               | expected a tensor name (a JSON string), found end of header",
        "truncated entry              | {\"a\":                         | expected an object {dtype, shape, data_offsets}, found end of header",
        "trailing comma               | {\"__metadata__\":{},}          | expected a tensor name (a JSON string), found '}'",
        "single quotes                | {'a':1}                         | expected a tensor name (a JSON string), found '''",
        "comment                      | {/*x*/}                         | found '/'",
        "garbage after object         | {}x                             | unexpected 'x' after the header object",
        "two objects                  | {}{}                            | unexpected '{' after the header object",
        "unterminated string          | {\"abc                          | unterminated string",
        "bad escape                   | {\"a\\x\":1}                    | invalid escape character 'x'",
        "short unicode escape         | {\"\\u12\":1}                   | expected a hex digit, found '\"'",
        "lone high surrogate          | {\"\\ud800\":1}                 | unpaired surrogate",
        "lone low surrogate           | {\"\\udc00x\":1}                | unpaired surrogate",
        "missing colon                | {\"a\" {}}                      | expected ':' after key 'a', found '{'",
        "leading zero                 | {\"a\":{\"shape\":[01]}}        | expected ',' or ']' in tensor 'a': shape, found '1'",
        "bare minus                   | {\"a\":{\"shape\":[-]}}         | must be a non-negative integer, found '-'",
        "fraction without digits      | {\"a\":{\"shape\":[1.]}}        | malformed number in tensor 'a': shape: expected a digit",
        "metadata not an object       | {\"__metadata__\":[]}           | __metadata__ must be an object of strings, found '['",
        "metadata value not a string  | {\"__metadata__\":{\"k\":1}}    | __metadata__ 'k' must be a string, found '1'",
        "entry not an object          | {\"a\":[1]}                     | tensor 'a': expected an object",
        "dtype not a string           | {\"a\":{\"dtype\":1}}           | tensor 'a': dtype must be a string, found '1'",
        "shape not an array           | {\"a\":{\"shape\":3}}           | tensor 'a': shape must be an array of integers, found '3'",
      })
  void invalidJson(String name, String json, String message) throws IOException {
    assertCorrupt(file(json, 0), message);
  }

  @Test
  void unescapedControlCharacterAndInvalidUtf8() throws IOException {
    assertCorrupt(file("{\"a\tb\":1}", 0), "unescaped control character 0x09");
    byte[] bad = {'{', '"', (byte) 0xc3, '"', ':', '1', '}'}; // 0xc3 starts a 2-byte sequence
    assertThat(assertCorrupt(raw(bad.length, bad), "not valid UTF-8").offset()).isEqualTo(10);
    byte[] bom = {(byte) 0xef, (byte) 0xbb, (byte) 0xbf, '{', '}'};
    assertCorrupt(raw(bom.length, bom), "must be a JSON object, found byte 0xef");
    byte[] overlong = {'{', '"', (byte) 0xc0, (byte) 0xaf, '"', '}'};
    assertCorrupt(raw(overlong.length, overlong), "not valid UTF-8");
  }

  @Test
  void unknownDtype() throws IOException {
    assertCorrupt(
        file("{" + entry("w", "F7", "[1]", 0, 4) + "}", 4), "tensor 'w': unknown dtype 'F7'");
  }

  @Test
  void shapeTimesDtypeSizeMismatch() throws IOException {
    CorruptCheckpointException e =
        assertCorrupt(
            file("{" + entry("w", "F32", "[2,2]", 0, 12) + "}", 12),
            "tensor 'w': data_offsets [0, 12] span 12 bytes but F32 [2, 2] needs 16");
    assertThat(e.offset()).isGreaterThan(8);
  }

  @Test
  void offsetsOutOfRange() throws IOException {
    assertCorrupt(
        file("{" + entry("w", "F32", "[4]", 8, 24) + "}", 16),
        "tensor 'w': data_offsets [8, 24] reach beyond the data section of 16 bytes");
    assertCorrupt(
        file("{" + entry("w", "U8", "[4]", Long.MAX_VALUE - 4, Long.MAX_VALUE) + "}", 4),
        "tensor 'w': data_offsets [9223372036854775803, 9223372036854775807] reach beyond");
    assertCorrupt(
        file("{" + entry("w", "U8", "[0]", 8, 4) + "}", 8),
        "tensor 'w': data_offsets [8, 4] end before they begin");
    assertCorrupt(
        file("{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4,8]}}", 8),
        "tensor 'w': data_offsets has more than 2 entries");
    assertCorrupt(
        file("{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4]}}", 8),
        "tensor 'w': data_offsets must be [begin, end], found 1 entries");
  }

  @Test
  void overlappingOffsets() throws IOException {
    String json =
        "{" + entry("b", "F32", "[4]", 8, 24) + "," + entry("a", "F32", "[4]", 0, 16) + "}";
    assertCorrupt(file(json, 24), "tensors 'a' [0, 16) and 'b' [8, 24) overlap");
    String same =
        "{" + entry("a", "F32", "[4]", 0, 16) + "," + entry("b", "I32", "[4]", 0, 16) + "}";
    assertCorrupt(file(same, 16), "tensors 'a' [0, 16) and 'b' [0, 16) overlap");
  }

  @Test
  void holesAndTrailingBytesAreRejected() throws IOException {
    String hole = "{" + entry("a", "U8", "[8]", 0, 8) + "," + entry("b", "U8", "[8]", 12, 20) + "}";
    assertCorrupt(file(hole, 20), "hole of 4 unused bytes after 'a' [0, 8) before 'b' [12, 20)");
    assertCorrupt(
        file("{" + entry("a", "U8", "[8]", 4, 12) + "}", 12),
        "hole of 4 unused bytes at the start of the data section before 'a' [4, 12)");
    assertCorrupt(
        file("{" + entry("a", "U8", "[8]", 0, 8) + "}", 11),
        "after the last tensor 'a' [0, 8) the data section holds 3 more bytes");
    assertCorrupt(
        file("{}", 5), "header declares no tensors but the data section holds 5 more bytes");
  }

  @Test
  void duplicateKeys() throws IOException {
    String e = entry("w", "U8", "[1]", 0, 1);
    assertCorrupt(file("{" + e + "," + e + "}", 1), "duplicate key 'w' in the header");
    assertCorrupt(
        file("{\"__metadata__\":{},\"__metadata__\":{}}", 0), "duplicate key '__metadata__'");
    assertCorrupt(
        file("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0),
        "duplicate key 'k' in __metadata__");
    assertCorrupt(
        file("{\"w\":{\"dtype\":\"U8\",\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
        "tensor 'w': duplicate field 'dtype'");
  }

  @Test
  void missingAndUnknownFields() throws IOException {
    assertCorrupt(
        file("{\"w\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1),
        "tensor 'w': missing field 'shape'");
    assertCorrupt(file("{\"w\":{}}", 0), "tensor 'w': missing field 'dtype'");
    assertCorrupt(
        file("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":1}}", 1),
        "tensor 'w': unknown field 'x'");
  }

  @ParameterizedTest(name = "shape {0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "[-1]                          | tensor 'w': shape[0] must be a non-negative integer, found -1",
        "[2,-0]                        | tensor 'w': shape[1] must be a non-negative integer, found -0",
        "[2.5]                         | tensor 'w': shape[0] must be a non-negative integer, found 2.5",
        "[2.0]                         | tensor 'w': shape[0] must be a non-negative integer, found 2.0",
        "[1e2]                         | tensor 'w': shape[0] must be a non-negative integer, found 1e2",
        "[\"2\"]                       | tensor 'w': shape[0] must be a non-negative integer, found '\"'",
        "[null]                        | tensor 'w': shape[0] must be a non-negative integer, found 'n'",
        "[99999999999999999999]        | tensor 'w': shape[0] is too large: 99999999999999999999",
        "[4294967296,4294967296]       | tensor 'w': F32 [4294967296, 4294967296] has a byte size beyond 64 bits",
        "[2147483648,2147483648]       | tensor 'w': F32 [2147483648, 2147483648] has a byte size beyond 64 bits",
      })
  void badShapeEntries(String shape, String message) throws IOException {
    assertCorrupt(file("{" + entry("w", "F32", shape, 0, 4) + "}", 4), message);
  }

  @Test
  void tooManyDimensions() throws IOException {
    String shape = "[" + "1,".repeat(HeaderParser.MAX_RANK) + "1]";
    assertCorrupt(
        file("{" + entry("w", "U8", shape, 0, 1) + "}", 1),
        "tensor 'w': shape has more than 1024 entries");
  }

  @Test
  void truncatedFile() throws IOException {
    Path good = dir.resolve("good.safetensors");
    SafetensorsWriter.write(
        good,
        List.of(
            Tensor.ofFloats("a", new long[] {2}, 1f, 2f),
            Tensor.ofFloats("b", new long[] {3}, 1f, 2f, 3f)));
    byte[] all = Files.readAllBytes(good);

    Path cut = dir.resolve("cut.safetensors");
    Files.write(cut, Arrays.copyOf(all, all.length - 3));
    assertCorrupt(
        cut,
        "tensor 'b': data_offsets [8, 20] reach beyond the data section of 17 bytes (file truncated?)");

    Files.write(cut, Arrays.copyOf(all, 40)); // inside the header
    assertCorrupt(cut, "header length", "exceeds file size 40");
  }

  @Test
  void longNamesAreCutInMessages() throws IOException {
    String name = "n".repeat(10_000);
    CorruptCheckpointException e =
        assertCorrupt(file("{" + entry(name, "F7", "[1]", 0, 4) + "}", 4), "(10000 chars)");
    assertThat(e.getMessage()).hasSizeLessThan(400);
  }
}
