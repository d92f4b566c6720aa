package dev.compress.api.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.CorruptCheckpointException;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxFileTest {
  @TempDir Path dir;

  /** Three 2x2 images of unsigned bytes: image i holds 10 i .. 10 i + 3. */
  static byte[] images() {
    ByteBuffer b = ByteBuffer.allocate(16 + 12);
    b.putInt(0x00000803).putInt(3).putInt(2).putInt(2);
    for (int i = 0; i < 12; i++) {
      b.put((byte) (10 * (i / 4) + i % 4));
    }
    return b.array();
  }

  static byte[] labels(int... y) {
    ByteBuffer b = ByteBuffer.allocate(8 + y.length);
    b.putInt(0x00000801).putInt(y.length);
    for (int v : y) {
      b.put((byte) v);
    }
    return b.array();
  }

  static byte[] gzip(byte[] data) throws Exception {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (OutputStream out = new GZIPOutputStream(bos)) {
      out.write(data);
    }
    return bos.toByteArray();
  }

  @Test
  void readsImagesLabelsAndHeadersPlainAndGzipped() throws Exception {
    Path plain = Files.write(dir.resolve("train-images-idx3-ubyte"), images());
    Path gz = Files.write(dir.resolve("train-images-idx3-ubyte.gz"), gzip(images()));
    for (Path p : new Path[] {plain, gz}) {
      IdxFile f = IdxFile.read(p);
      assertThat(f.dims()).containsExactly(3, 2, 2);
      assertThat(f.count()).isEqualTo(3);
      assertThat(f.elementsPerItem()).isEqualTo(4);
      assertThat(f.floats(2)).containsExactly(20 / 255f, 21 / 255f, 22 / 255f, 23 / 255f);
      IdxFile h = IdxFile.header(p);
      assertThat(h.dims()).containsExactly(3, 2, 2);
      assertThat(h.type()).isEqualTo(IdxFile.UBYTE);
    }
    Path lab = Files.write(dir.resolve("train-labels-idx1-ubyte.gz"), gzip(labels(7, 0, 9)));
    assertThat(IdxFile.read(lab).labels()).containsExactly(7, 0, 9);
    assertThat(ClassLabels.read(lab, "k")).containsExactly(7, 0, 9);
    Path json = Files.writeString(dir.resolve("l.json"), "[7, 0, 9]");
    assertThat(ClassLabels.read(json, "k")).containsExactly(7, 0, 9);
  }

  @Test
  void malformedFilesNameTheFileAndWhatIsWrong() throws Exception {
    Path img = Files.write(dir.resolve("a.idx"), images());
    assertThatThrownBy(() -> IdxFile.read(img).labels())
        .isInstanceOf(CorruptCheckpointException.class)
        .hasMessageContaining(img.toString())
        .hasMessageContaining("not an IDX label file: magic 0x00000803");
    Path cut = Files.write(dir.resolve("b.idx"), Arrays.copyOf(images(), 20));
    assertThatThrownBy(() -> IdxFile.read(cut))
        .hasMessageContaining(cut.toString())
        .hasMessageContaining("need 12 data bytes but the file holds 4 (truncated)");
    Path magic = Files.write(dir.resolve("c.idx"), new byte[] {0, 0, 9, 3, 0, 0, 0, 1});
    assertThatThrownBy(() -> IdxFile.header(magic))
        .isInstanceOf(CorruptCheckpointException.class)
        .hasMessageContaining("magic 0x00000903");
    Path shortHeader = Files.write(dir.resolve("d.idx"), new byte[] {0, 0, 8, 3, 0, 0});
    assertThatThrownBy(() -> IdxFile.header(shortHeader))
        .hasMessageContaining("truncated IDX header");
    Path neg = Files.writeString(dir.resolve("l.txt"), "1\n-2\n");
    assertThatThrownBy(() -> ClassLabels.read(neg, "calibration.labels"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("calibration.labels: labels must be >= 0, found -2");
  }
}
