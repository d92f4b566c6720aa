package dev.compress.evaluation.size;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.CorruptCheckpointException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxFileSizeTest {
  private static void varint(ByteArrayOutputStream o, long v) {
    while ((v & ~0x7fL) != 0) {
      o.write((int) ((v & 0x7f) | 0x80));
      v >>>= 7;
    }
    o.write((int) v);
  }

  /** A length-delimited field. */
  private static byte[] field(int number, byte[]... parts) {
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      payload.writeBytes(p);
    }
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    varint(o, (long) number << 3 | 2);
    varint(o, payload.size());
    o.writeBytes(payload.toByteArray());
    return o.toByteArray();
  }

  private static byte[] varintField(int number, long value) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    varint(o, (long) number << 3);
    varint(o, value);
    return o.toByteArray();
  }

  private static byte[] str(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** A TensorProto whose data lives in {@code location}. */
  private static byte[] externalTensor(String name, String location) {
    return concat(
        field(8, str(name)),
        field(13, field(1, str("location")), field(2, str(location))),
        field(13, field(1, str("offset")), field(2, str("0"))),
        varintField(14, 1));
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      o.writeBytes(p);
    }
    return o.toByteArray();
  }

  @Test
  void countsEachExternalFileOnceIncludingSubgraphs(@TempDir Path dir) throws Exception {
    byte[] subgraph = field(5, externalTensor("s", "sub.bin"));
    byte[] node =
        concat(field(4, str("If")), field(5, field(1, str("then_branch")), field(6, subgraph)));
    byte[] graph =
        concat(
            field(1, node),
            field(5, externalTensor("w1", "w.bin")),
            field(5, externalTensor("w2", "w.bin")));
    Path model = dir.resolve("m.onnx");
    Files.write(model, concat(varintField(1, 8), field(7, graph)));
    Files.write(dir.resolve("w.bin"), new byte[1000]);
    Files.write(dir.resolve("sub.bin"), new byte[24]);

    OnnxFileSize.Sizes s = OnnxFileSize.of(model);
    assertThat(s.files())
        .containsExactly(
            model, dir.resolve("sub.bin").toAbsolutePath(), dir.resolve("w.bin").toAbsolutePath());
    assertThat(s.bytes()).isEqualTo(Files.size(model) + 1024);
  }

  @Test
  void truncatedFileIsCorrupt(@TempDir Path dir) throws Exception {
    byte[] full = concat(varintField(1, 8), field(7, field(5, externalTensor("w", "w.bin"))));
    Path model = dir.resolve("m.onnx");
    Files.write(model, Arrays.copyOf(full, full.length - 5));
    assertThatThrownBy(() -> OnnxFileSize.of(model))
        .isInstanceOf(CorruptCheckpointException.class)
        .hasMessageContaining("overruns its message");
  }
}
