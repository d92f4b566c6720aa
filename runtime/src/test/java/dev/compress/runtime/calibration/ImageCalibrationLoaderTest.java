package dev.compress.runtime.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.graph.ValueInfo.Dim;
import dev.compress.api.tensor.DataType;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageCalibrationLoaderTest {
  final ImageCalibrationLoader loader = new ImageCalibrationLoader();

  /** Five 2x2 images; image i holds bytes 10*i .. 10*i+3. */
  static final int N = 5;

  static int pixel(int i, int p) {
    return 10 * i + p;
  }

  static ModelGraph model(List<Dim> shape) {
    Graph g = new Graph("g");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, shape));
    return new ModelGraph(13, g);
  }

  static ModelGraph nchw() {
    return model(List.of(Dim.of("N"), Dim.of(1), Dim.of(2), Dim.of(2)));
  }

  static byte[] idx() {
    ByteBuffer b = ByteBuffer.allocate(16 + N * 4);
    b.putInt(0x00000803).putInt(N).putInt(2).putInt(2);
    for (int i = 0; i < N; i++) {
      for (int p = 0; p < 4; p++) {
        b.put((byte) pixel(i, p));
      }
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

  static String json() {
    List<String> imgs = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      List<String> px = new ArrayList<>();
      for (int p = 0; p < 4; p++) {
        px.add(Float.toString(pixel(i, p) / 255f));
      }
      imgs.add("[" + String.join(", ", px) + "]");
    }
    return "[\n" + String.join(",\n", imgs) + "\n]\n";
  }

  static String csv() {
    StringBuilder sb = new StringBuilder("p0,p1,p2,p3\n");
    for (int i = 0; i < N; i++) {
      List<String> px = new ArrayList<>();
      for (int p = 0; p < 4; p++) {
        px.add(Float.toString(pixel(i, p) / 255f));
      }
      sb.append(String.join(",", px)).append('\n');
    }
    return sb.toString();
  }

  static CalibrationSpec spec(Path f, int samples, int batch, long seed, boolean shuffle) {
    return CalibrationSpec.builder(f.toString())
        .kind("images")
        .samples(samples)
        .sequenceLength(1)
        .batchSize(batch)
        .seed(seed)
        .shuffle(shuffle)
        .build();
  }

  CalibrationSet load(Path f, ModelGraph m) throws CompressionException {
    return loader.load(spec(f, 4, 3, 7, true), m, f, "m.onnx");
  }

  @Test
  void formatsLoadToTheSameTensors(@TempDir Path dir) throws Exception {
    Path idx = Files.write(dir.resolve("train-images-idx3-ubyte"), idx());
    Path gz = Files.write(dir.resolve("images.idx.gz"), gzip(idx()));
    Path js = Files.writeString(dir.resolve("images.json"), json());
    Path cs = Files.writeString(dir.resolve("images.csv"), csv());

    CalibrationSet ref = load(idx, nchw());
    assertThat(ref.batches()).hasSize(2);
    assertThat(ref.batches().get(0).keySet()).containsExactly("x");
    assertThat(ref.batches().get(0).get("x").shape()).containsExactly(3, 1, 2, 2);
    assertThat(ref.batches().get(1).get("x").shape()).containsExactly(1, 1, 2, 2);
    List<Integer> order = SampleSelection.take(List.of(0, 1, 2, 3, 4), 4, true, 7);
    float[] first = ref.batches().get(0).get("x").toFloatArray();
    assertThat(first[0]).isEqualTo(pixel(order.get(0), 0) / 255f);
    assertThat(first[4 + 3]).isEqualTo(pixel(order.get(1), 3) / 255f);
    assertThat(ref.identity().kind()).isEqualTo("images");
    assertThat(ref.identity().sequenceLength()).isZero();
    assertThat(ref.identity().samples()).isEqualTo(4);

    for (Path f : List.of(gz, js, cs)) {
      CalibrationSet other = load(f, nchw());
      assertThat(other.batches()).hasSize(2);
      for (int b = 0; b < 2; b++) {
        assertThat(other.batches().get(b).get("x").shape())
            .isEqualTo(ref.batches().get(b).get("x").shape());
        assertThat(other.batches().get(b).get("x").toFloatArray())
            .isEqualTo(ref.batches().get(b).get("x").toFloatArray());
      }
      assertThat(other.identity().sha256()).isEqualTo(ref.identity().sha256());
    }

    CalibrationSet flat = load(js, model(List.of(Dim.of("N"), Dim.of(4))));
    assertThat(flat.batches().get(0).get("x").shape()).containsExactly(3, 4);
    assertThat(flat.identity().sha256()).isEqualTo(ref.identity().sha256());
  }

  @Test
  void identityIsDeterministic(@TempDir Path dir) throws Exception {
    Path idx = Files.write(dir.resolve("images.idx"), idx());
    CalibrationSet a = load(idx, nchw());
    assertThat(load(idx, nchw()).identity()).isEqualTo(a.identity());
    assertThat(a.identity().sha256()).hasSize(64);
    CalibrationSet other = loader.load(spec(idx, 4, 3, 8, true), nchw(), idx, "m.onnx");
    CalibrationSet unshuffled = loader.load(spec(idx, 4, 3, 7, false), nchw(), idx, "m.onnx");
    assertThat(unshuffled.batches().get(0).get("x").toFloatArray())
        .startsWith(0f, 1 / 255f, 2 / 255f, 3 / 255f);
    assertThat(List.of(other.identity().sha256(), unshuffled.identity().sha256()))
        .doesNotContain(a.identity().sha256());
  }

  @Test
  void shapeMismatchesAreConfigErrors(@TempDir Path dir) throws Exception {
    Path idx = Files.write(dir.resolve("images.idx"), idx());
    assertThatThrownBy(() -> load(idx, model(List.of(Dim.of("N"), Dim.of(1), Dim.of(28)))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("calibration.source")
        .hasMessageContaining("4 pixels")
        .hasMessageContaining("takes 28 values");
    assertThatThrownBy(() -> load(idx, model(List.of(Dim.of("N"), Dim.of("h")))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("calibration.kind")
        .hasMessageContaining("fixed");
    Graph g = new Graph("g");
    g.inputs().add(ValueInfo.tensor("ids", DataType.INT64, List.of(Dim.of("N"), Dim.of(4))));
    assertThatThrownBy(() -> load(idx, new ModelGraph(13, g)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("calibration.kind")
        .hasMessageContaining("INT64");
    assertThatThrownBy(() -> loader.load(spec(idx, 6, 1, 0, false), nchw(), idx, "m.onnx"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("calibration.samples: 6 requested but " + idx + " has only 5 images");
  }

  @Test
  void corruptFilesNameTheFile(@TempDir Path dir) throws Exception {
    byte[] full = idx();
    Path truncated = Files.write(dir.resolve("t.idx"), Arrays.copyOf(full, full.length - 3));
    assertThatThrownBy(() -> load(truncated, nchw()))
        .isInstanceOf(CompressionException.class)
        .hasMessageContaining(truncated.toString())
        .hasMessageContaining("truncated");
    Path header = Files.write(dir.resolve("h.idx"), Arrays.copyOf(full, 9));
    assertThatThrownBy(() -> load(header, nchw()))
        .isInstanceOf(CompressionException.class)
        .hasMessageContaining(header.toString());
    byte[] huge = full.clone();
    ByteBuffer.wrap(huge).putInt(4, -1);
    Path big = Files.write(dir.resolve("b.idx"), huge);
    assertThatThrownBy(() -> load(big, nchw()))
        .isInstanceOf(CompressionException.class)
        .hasMessageContaining(big.toString());
    Path badMagic = Files.write(dir.resolve("m.idx"), new byte[] {1, 2, 3, 4, 5});
    assertThatThrownBy(() -> load(badMagic, nchw()))
        .isInstanceOf(CompressionException.class)
        .hasMessageContaining("magic");
    Path ragged = Files.writeString(dir.resolve("r.json"), "[[1,2,3,4],[1,2]]");
    assertThatThrownBy(() -> load(ragged, nchw()))
        .isInstanceOf(CompressionException.class)
        .hasMessageContaining(ragged.toString());
    Path badJson = Files.writeString(dir.resolve("j.json"), "[[1,2,3,4],");
    assertThatThrownBy(() -> load(badJson, nchw()))
        .isInstanceOf(CompressionException.class)
        .hasMessageContaining(badJson.toString());
  }

  static byte[] labelIdx(int n) {
    ByteBuffer b = ByteBuffer.allocate(8 + n);
    b.putInt(0x00000801).putInt(n);
    for (int i = 0; i < n; i++) {
      b.put((byte) (i % 3));
    }
    return b.array();
  }

  @Test
  void labelsTravelBesideTheirImages(@TempDir Path dir) throws Exception {
    Path idx = Files.write(dir.resolve("images.idx"), idx());
    Path lab = Files.write(dir.resolve("labels-idx1-ubyte.gz"), gzip(labelIdx(N)));
    Path txt = Files.writeString(dir.resolve("labels.txt"), "0\n1\n2\n0\n1\n");
    CalibrationSet plain = load(idx, nchw());
    for (Path l : List.of(lab, txt)) {
      CalibrationSet set =
          loader.load(spec(idx, 4, 3, 7, true).withLabels(l.toString()), nchw(), idx, "m.onnx");
      assertThat(set.batches().get(0).keySet()).containsExactly("x", "labels");
      List<Integer> order = SampleSelection.take(List.of(0, 1, 2, 3, 4), 4, true, 7);
      long[] want = order.stream().mapToLong(i -> i % 3).toArray();
      long[] got = new long[4];
      System.arraycopy(set.batches().get(0).get("labels").toLongArray(), 0, got, 0, 3);
      got[3] = set.batches().get(1).get("labels").toLongArray()[0];
      assertThat(got).isEqualTo(want);
      assertThat(set.batches().get(1).get("x").toFloatArray())
          .isEqualTo(plain.batches().get(1).get("x").toFloatArray());
      // The identity covers the labels: same images, other hash.
      assertThat(set.identity().sha256()).isNotEqualTo(plain.identity().sha256());
      assertThat(loader.check(spec(idx, 4, 3, 7, true).withLabels(l.toString()), nchw(), idx, "m"))
          .isEmpty();
    }
  }

  @Test
  void labelProblemsAreFoundAtPlanTime(@TempDir Path dir) throws Exception {
    Path idx = Files.write(dir.resolve("images.idx"), idx());
    Path few = Files.write(dir.resolve("few.idx"), labelIdx(3));
    assertThat(loader.check(spec(idx, 4, 3, 7, true).withLabels(few.toString()), nchw(), idx, "m"))
        .containsExactly(
            "calibration.labels: "
                + few
                + " holds 3 labels but "
                + idx
                + " holds 5 images (one label per image)");
    Path images = Files.write(dir.resolve("other.idx"), idx());
    assertThat(
            loader.check(spec(idx, 4, 3, 7, true).withLabels(images.toString()), nchw(), idx, "m"))
        .singleElement()
        .asString()
        .contains("calibration.labels", "not an IDX label file");
    assertThat(
            loader.check(
                spec(idx, 4, 3, 7, true).withLabels(dir.resolve("none.txt").toString()),
                nchw(),
                idx,
                "m"))
        .containsExactly("calibration.labels: file not found: " + dir.resolve("none.txt"));
    assertThat(loader.check(spec(idx, 9, 3, 7, true), nchw(), idx, "m"))
        .containsExactly("calibration.samples: 9 requested but " + idx + " has only 5 images");
    assertThatThrownBy(
            () -> new CalibrationSpec("text", "t.txt", 4, 8, 2, 0, true, "", "labels.txt"))
        .hasMessageContaining("labels applies to kind images only, found kind text");
  }
}
