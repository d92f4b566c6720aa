package dev.compress.api.io.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.UnsupportedModelException;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.QuantParams;
import dev.compress.api.tensor.Tensor;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
  @TempDir Path dir;

  /** Tensors of every dtype the format names, filled with seeded random bytes. */
  private static List<Tensor> everyDtype() {
    Random rnd = new Random(42);
    List<Tensor> out = new ArrayList<>();
    out.add(Tensor.ofFloats("f32", new long[] {2, 3}, 1f, -2f, 0.5f, Float.NaN, 1e-30f, 7f));
    out.add(random(rnd, "f16", DataType.FLOAT16, 4));
    out.add(random(rnd, "bf16", DataType.BFLOAT16, 2, 2));
    out.add(Tensor.ofBytes("i8", DataType.INT8, new long[] {5}, new byte[] {-128, -1, 0, 1, 127}));
    out.add(Tensor.ofBytes("u8", DataType.UINT8, new long[] {3}, (byte) 0, (byte) 128, (byte) 255));
    out.add(Tensor.ofLongs("i64", new long[] {2}, Long.MIN_VALUE, Long.MAX_VALUE));
    out.add(Tensor.ofBytes("bool", DataType.BOOL, new long[] {3}, new byte[] {1, 0, 1}));
    out.add(random(rnd, "fp8_e4m3", DataType.FLOAT8E4M3FN, 4));
    out.add(random(rnd, "fp8_e5m2", DataType.FLOAT8E5M2, 2, 1));
    out.add(random(rnd, "fp8_e8m0", DataType.FLOAT8E8M0, 3));
    out.add(random(rnd, "f64", DataType.DOUBLE, 2));
    out.add(random(rnd, "i32", DataType.INT32, 3));
    out.add(random(rnd, "i16", DataType.INT16, 3));
    out.add(random(rnd, "u16", DataType.UINT16, 3));
    out.add(random(rnd, "u32", DataType.UINT32, 1));
    out.add(random(rnd, "u64", DataType.UINT64, 1));
    out.add(random(rnd, "c64", DataType.COMPLEX64, 2));
    out.add(random(rnd, "scalar", DataType.FLOAT));
    out.add(random(rnd, "empty", DataType.FLOAT, 0, 3));
    out.add(random(rnd, "model.layers.0.self_attn.q_proj.weight", DataType.BFLOAT16, 4, 2));
    return out;
  }

  private static Tensor random(Random rnd, String name, DataType dtype, long... shape) {
    byte[] b = new byte[(int) dtype.byteSize(Tensor.elementCount(shape))];
    rnd.nextBytes(b);
    return Tensor.of(name, dtype, shape, ByteBuffer.wrap(b));
  }

  private static byte[] bytes(Tensor t) {
    ByteBuffer b = t.data();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  private static void assertSameTensors(Map<String, Tensor> actual, List<Tensor> expected) {
    assertThat(actual.keySet())
        .containsExactlyElementsOf(expected.stream().map(Tensor::name).toList());
    for (Tensor e : expected) {
      Tensor a = actual.get(e.name());
      assertThat(a.dtype()).as(e.name()).isEqualTo(e.dtype());
      assertThat(a.shape()).as(e.name()).containsExactly(e.shape());
      assertThat(bytes(a)).as(e.name()).isEqualTo(bytes(e));
    }
  }

  @Test
  void roundTripsEveryDtypeAndMetadata() throws Exception {
    List<Tensor> tensors = everyDtype();
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", "pt");
    metadata.put("z-last", "");
    metadata.put("unicode é", "ü \"quoted\" \\ new\nline\ttab \u0001 😀");
    Path file = dir.resolve("all.safetensors");

    SafetensorsWriter.write(file, tensors, metadata);
    SafetensorsFile read = SafetensorsReader.read(file);

    assertThat(read.path()).isEqualTo(file);
    assertSameTensors(read.tensors(), tensors);
    assertThat(read.metadata()).isEqualTo(metadata);
    assertThat(read.metadata().keySet()).containsExactly("format", "unicode é", "z-last"); // sorted
    Tensor f32 = read.tensor("f32");
    assertThat(f32.data().isDirect()).as("memory-mapped, not a heap copy").isTrue();
    assertThat(f32.data().isReadOnly()).isTrue();
    assertThat(f32.toFloatArray()).containsExactly(1f, -2f, 0.5f, Float.NaN, 1e-30f, 7f);
    assertThat(read.tensor("i64").toLongArray()).containsExactly(Long.MIN_VALUE, Long.MAX_VALUE);
    assertThat(read.tensor("scalar").rank()).isZero();
    assertThatThrownBy(() -> read.tensor("nope"))
        .isInstanceOf(java.util.NoSuchElementException.class)
        .hasMessageContaining("'nope'")
        .hasMessageContaining(file.toString());
  }

  @Test
  void writesAreDeterministicAndReadWriteIsIdentity() throws Exception {
    List<Tensor> tensors = everyDtype();
    Map<String, String> metadata = Map.of("b", "2", "a", "1", "c", "3"); // unordered input
    Path first = dir.resolve("first.safetensors");
    Path second = dir.resolve("second.safetensors");
    Path third = dir.resolve("third.safetensors");

    SafetensorsWriter.write(first, tensors, metadata);
    SafetensorsWriter.write(second, tensors, new java.util.TreeMap<>(metadata));
    SafetensorsFile read = SafetensorsReader.read(first);
    SafetensorsWriter.write(third, read.tensors().values(), read.metadata());

    byte[] expected = Files.readAllBytes(first);
    assertThat(Files.readAllBytes(second)).isEqualTo(expected);
    assertThat(Files.readAllBytes(third)).isEqualTo(expected);
  }

  @Test
  void headerIsCompactJsonPaddedWithSpacesToEightBytes() throws Exception {
    Path file = dir.resolve("small.safetensors");
    SafetensorsWriter.write(
        file, List.of(Tensor.ofFloats("a", new long[] {2}, 1f, 2f)), Map.of("format", "pt"));

    byte[] all = Files.readAllBytes(file);
    String json =
        "{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    int padded = (json.length() + 7) / 8 * 8;
    ByteBuffer expected = ByteBuffer.allocate(8 + padded + 8).order(ByteOrder.LITTLE_ENDIAN);
    expected.putLong(padded).put(json.getBytes(StandardCharsets.US_ASCII));
    while (expected.position() < 8 + padded) {
      expected.put((byte) ' ');
    }
    expected.putFloat(1f).putFloat(2f);
    assertThat(padded).isGreaterThan(json.length()); // the padding is exercised
    assertThat(all).isEqualTo(expected.array());
  }

  @Test
  void readsTheReferenceImplementationsOutputAndWritesItByteForByte() throws Exception {
    Path file = dir.resolve("reference.safetensors");
    try (InputStream in =
        getClass().getResourceAsStream("/safetensors/reference-numpy.safetensors")) {
      Files.write(file, in.readAllBytes());
    }

    SafetensorsFile read = SafetensorsReader.read(file);

    assertThat(read.metadata())
        .containsExactly(Map.entry("format", "np"), Map.entry("note", "reference"));
    assertThat(read.tensors().keySet()) // layout order, as the reference wrote them
        .containsExactly("ids", "weight", "half", "empty", "bytes", "mask");
    assertThat(read.tensor("weight").shape()).containsExactly(2, 3);
    assertThat(read.tensor("weight").toFloatArray()).containsExactly(0f, 0.5f, 1f, 1.5f, 2f, 2.5f);
    assertThat(read.tensor("ids").toLongArray()).containsExactly(1, -2);
    assertThat(read.tensor("bytes").toLongArray()).containsExactly(0, 127, 255);
    assertThat(read.tensor("mask").dtype()).isEqualTo(DataType.BOOL);
    assertThat(read.tensor("mask").toLongArray()).containsExactly(1, 0);
    assertThat(read.tensor("half").toFloatArray()).containsExactly(1.5f, -2f);
    assertThat(read.tensor("empty").shape()).containsExactly(0, 4);
    assertThat(read.tensor("empty").byteSize()).isZero();

    Path rewritten = dir.resolve("rewritten.safetensors");
    SafetensorsWriter.write(rewritten, read.tensors().values(), read.metadata());
    assertThat(Files.readAllBytes(rewritten)).isEqualTo(Files.readAllBytes(file));
  }

  @Test
  void zeroElementTensors() throws Exception {
    List<Tensor> tensors =
        List.of(
            Tensor.of("e0", DataType.FLOAT, new long[] {0}, ByteBuffer.allocate(0)),
            Tensor.ofBytes("x", DataType.UINT8, new long[] {2}, (byte) 1, (byte) 2),
            Tensor.of("e1", DataType.BFLOAT16, new long[] {3, 0, 2}, ByteBuffer.allocate(0)));
    Path file = dir.resolve("empty.safetensors");
    SafetensorsWriter.write(file, tensors);
    assertSameTensors(SafetensorsReader.read(file).tensors(), tensors);

    Path onlyEmpty = dir.resolve("only-empty.safetensors");
    SafetensorsWriter.write(onlyEmpty, List.of(tensors.get(0), tensors.get(2)));
    SafetensorsFile read = SafetensorsReader.read(onlyEmpty);
    assertThat(read.tensors().keySet()).containsExactly("e0", "e1");
    assertThat(read.tensor("e1").shape()).containsExactly(3, 0, 2);

    Path none = dir.resolve("none.safetensors");
    SafetensorsWriter.write(none, List.of());
    assertThat(SafetensorsReader.read(none).tensors()).isEmpty();
    assertThat(Files.size(none)).isEqualTo(16); // "{}" padded to 8
  }

  @Test
  void mapsInWindowsWhenTheDataIsLargerThanOneMapping() throws Exception {
    List<Tensor> tensors = everyDtype();
    Path file = dir.resolve("windows.safetensors");
    SafetensorsWriter.write(file, tensors);

    // A 32-byte window limit forces many mappings; the biggest tensor here is 24 bytes.
    SafetensorsFile read = SafetensorsReader.read(file, 32);
    assertSameTensors(read.tensors(), tensors);

    assertThatThrownBy(() -> SafetensorsReader.read(file, 16))
        .isExactlyInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("tensor 'f32' is 24 bytes")
        .hasMessageContaining("cannot be memory-mapped");
  }

  @Test
  void parsesAnyValidJsonLayoutOfTheHeader() throws Exception {
    String json =
        "\n { \"w\\u00e9\" : { \"shape\" : [ 1 ] ,\t\"data_offsets\" : [ 0 , 4 ] , \"dtype\" :"
            + " \"F32\" } , \"__metadata__\" : { \"k\\/\\\"\" : \"\\ud83d\\ude00\" } }\r\n\t ";
    byte[] h = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer file = ByteBuffer.allocate(8 + h.length + 4).order(ByteOrder.LITTLE_ENDIAN);
    file.putLong(h.length).put(h).putFloat(3f);
    Path path = dir.resolve("layout.safetensors");
    Files.write(path, file.array());

    SafetensorsFile read = SafetensorsReader.read(path);

    assertThat(read.tensor("wé").toFloatArray()).containsExactly(3f);
    assertThat(read.metadata()).containsExactly(Map.entry("k/\"", "😀"));
  }

  @Test
  void overwritesTheFileItsTensorsAreMappedFrom() throws Exception {
    Path file = dir.resolve("inplace.safetensors");
    SafetensorsWriter.write(file, everyDtype());
    SafetensorsFile read = SafetensorsReader.read(file);
    List<Tensor> renamed = new ArrayList<>();
    for (Tensor t : read.tensors().values()) {
      renamed.add(t.withName("new." + t.name()));
    }

    SafetensorsWriter.write(file, renamed);

    SafetensorsFile again = SafetensorsReader.read(file);
    assertThat(again.tensor("new.f32").toFloatArray())
        .containsExactly(1f, -2f, 0.5f, Float.NaN, 1e-30f, 7f);
    assertThat(read.tensor("f32").toFloatArray())
        .containsExactly(1f, -2f, 0.5f, Float.NaN, 1e-30f, 7f);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("inplace.safetensors");
    }
  }

  @Test
  void writerRejectsWhatSafetensorsCannotHold() {
    Path file = dir.resolve("bad.safetensors");
    Tensor int4 = Tensor.of("packed", DataType.INT4, new long[] {4}, ByteBuffer.allocate(2));
    Tensor str = Tensor.ofStrings("words", new long[] {1}, List.of(new byte[] {'a'}));
    Tensor c128 =
        Tensor.of("complex", DataType.COMPLEX128, new long[] {1}, ByteBuffer.allocate(16));
    Tensor fnuz =
        Tensor.of("fnuz", DataType.FLOAT8E4M3FNUZ, new long[] {1}, ByteBuffer.allocate(1));
    Tensor w = Tensor.ofBytes("w", DataType.INT8, new long[] {2}, (byte) 1, (byte) 2);
    Tensor quant =
        w.withQuant(new QuantParams(Tensor.ofFloats("s", new long[] {}, 0.1f), null, 0, 0));

    assertRejected(List.of(w, int4), "tensor 'packed' is INT4, a packed sub-byte type");
    assertRejected(List.of(str), "tensor 'words' is STRING");
    assertRejected(List.of(c128), "tensor 'complex' is COMPLEX128, which safetensors has no dtype");
    assertRejected(List.of(fnuz), "tensor 'fnuz' is FLOAT8E4M3FNUZ");
    assertRejected(List.of(quant), "tensor 'w' carries quantization parameters");
    assertRejected(List.of(w, w), "tensor 'w' appears twice");
    assertRejected(List.of(w.withName("__metadata__")), "reserved");
    assertRejected(List.of(w.withName("bad\uD800name")), "unpaired surrogate");
    assertThat(file).doesNotExist();
  }

  private void assertRejected(List<Tensor> tensors, String message) {
    assertThatThrownBy(() -> SafetensorsWriter.write(dir.resolve("bad.safetensors"), tensors))
        .isExactlyInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }
}
