package dev.compress.runtime.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.graph.ValueInfo.Dim;
import dev.compress.api.io.safetensors.SafetensorsWriter;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorFileCalibrationLoaderTest {
  final TensorFileCalibrationLoader loader = new TensorFileCalibrationLoader();

  /** A graph with one f32 input {@code x (batch, 3)}; nodes do not matter here. */
  static ModelGraph oneInput() {
    Graph g = new Graph("g");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of("batch"), Dim.of(3))));
    return new ModelGraph(8, g);
  }

  static Path file(Path dir, Tensor... tensors) throws Exception {
    Path f = dir.resolve("calib.safetensors");
    SafetensorsWriter.write(f, List.of(tensors));
    return f;
  }

  static CalibrationSpec spec(Path f, int samples, int batch, long seed, boolean shuffle) {
    return CalibrationSpec.builder(f.toString())
        .kind("tensors")
        .samples(samples)
        .sequenceLength(1)
        .batchSize(batch)
        .seed(seed)
        .shuffle(shuffle)
        .build();
  }

  @Test
  void rowsAreShuffledAndBatched(@TempDir Path dir) throws Exception {
    float[] v = new float[5 * 3];
    for (int i = 0; i < v.length; i++) {
      v[i] = i / 3; // row r holds r, r, r
    }
    Path f =
        file(
            dir,
            Tensor.ofFloats("x", new long[] {5, 3}, v),
            Tensor.ofFloats("label", new long[] {5}, 0, 1, 2, 3, 4));
    CalibrationSet set = loader.load(spec(f, 4, 3, 42, false), oneInput(), f, f.toString());
    assertThat(set.batches()).hasSize(2);
    assertThat(set.batches().get(0).keySet()).containsExactly("x");
    assertThat(set.batches().get(0).get("x").shape()).containsExactly(3, 3);
    assertThat(set.batches().get(1).get("x").toFloatArray()).containsExactly(3, 3, 3);
    assertThat(set.identity().sequenceLength()).isZero();
    assertThat(set.identity().kind()).isEqualTo("tensors");

    CalibrationSet shuffled = loader.load(spec(f, 4, 4, 42, true), oneInput(), f, f.toString());
    float[] rows = shuffled.batches().get(0).get("x").toFloatArray();
    List<Integer> order = SampleSelection.take(List.of(0, 1, 2, 3, 4), 4, true, 42);
    assertThat(List.of(rows[0], rows[3], rows[6], rows[9]))
        .containsExactlyElementsOf(order.stream().map(Integer::floatValue).toList());
    assertThat(shuffled.identity().sha256()).isNotEqualTo(set.identity().sha256());
    assertThat(loader.load(spec(f, 4, 4, 42, true), oneInput(), f, f.toString()).identity())
        .isEqualTo(shuffled.identity());
  }

  @Test
  void mismatchesAreListed(@TempDir Path dir) throws Exception {
    Path f = file(dir, Tensor.ofFloats("y", new long[] {2, 3}, new float[6]));
    assertThatThrownBy(() -> loader.load(spec(f, 1, 1, 0, false), oneInput(), f, "m.onnx"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("has no tensor 'x'")
        .hasMessageContaining("[y]");
    Path g = file(dir, Tensor.ofFloats("x", new long[] {2, 4}, new float[8]));
    assertThatThrownBy(() -> loader.load(spec(g, 1, 1, 0, false), oneInput(), g, "m.onnx"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("has shape [2, 4] but the model declares FLOAT[batch, 3]");
    Path h = file(dir, Tensor.ofFloats("x", new long[] {2, 3}, new float[6]));
    assertThatThrownBy(() -> loader.load(spec(h, 3, 1, 0, false), oneInput(), h, "m.onnx"))
        .hasMessage("calibration.samples: 3 requested but " + h + " has only 2 samples");
    assertThatThrownBy(
            () -> loader.load(spec(dir.resolve("no"), 1, 1, 0, false), oneInput(), h, "m.onnx"))
        .hasMessage("calibration.source: file not found: " + dir.resolve("no"));
  }
}
