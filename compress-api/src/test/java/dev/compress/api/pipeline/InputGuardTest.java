package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pipeline.PipelineFixtures.FakeCalibrationLoader;
import dev.compress.api.pipeline.PipelineFixtures.FakeEvaluator;
import dev.compress.api.pipeline.ScaleWeightsConfig.Mode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --overwrite} never deletes a file the run reads, however the paths are spelled: the output
 * directory is compared with the input model, its external-data files and the calibration files by
 * real path and file identity, not only lexically.
 */
class InputGuardTest {
  private static final PassRegistry REGISTRY = PassRegistry.load();

  @TempDir Path tmp;
  private Path work;
  private final PipelineRunner runner =
      new PipelineRunner(
          REGISTRY, List.of(new FakeCalibrationLoader()), List.of(new FakeEvaluator(List.of())));

  @BeforeEach
  void setUp() throws IOException {
    work = Files.createDirectory(tmp.resolve("work"));
  }

  private static PipelineSpec.Builder spec(Path model, Path output) {
    return PipelineSpec.builder()
        .model(model)
        .output(output, true)
        .registry(REGISTRY)
        .pass(
            new ScaleWeightsConfig(
                LayerSelection.ALL, 0.5, 0, -1, Integer.MAX_VALUE, Mode.SCALE, List.of()));
  }

  /** Every file under {@code root} (links not followed) with its bytes, for before/after. */
  private static Map<String, String> snapshot(Path root) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        String key = root.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          m.put(key, "-> " + Files.readSymbolicLink(p));
        } else if (Files.isRegularFile(p)) {
          m.put(key, java.util.HexFormat.of().formatHex(Files.readAllBytes(p)));
        } else {
          m.put(key, "dir");
        }
      }
    }
    return m;
  }

  private void assertRefusedAndUnchanged(PipelineSpec spec, String message) throws IOException {
    Map<String, String> before = snapshot(work);
    assertThatThrownBy(() -> runner.run(spec, RunOptions.defaults().withOverwrite(true)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("output.dir: ")
        .hasMessageContaining(message)
        .hasMessageContaining("write the output elsewhere");
    assertThat(snapshot(work)).isEqualTo(before); // nothing written, moved or deleted
  }

  @Test
  void modelGivenThroughASymlinkedFolderIsNotReplaced() throws Exception {
    Path real = Files.createDirectory(work.resolve("real"));
    PipelineFixtures.writeMlp(real.resolve("model.onnx"));
    Path link = Files.createSymbolicLink(work.resolve("link"), real);
    // model: work/link/model.onnx, --output work/real --overwrite: lexically apart, the same folder
    assertRefusedAndUnchanged(
        spec(link.resolve("model.onnx"), real).build(),
        "contains the input model " + link.resolve("model.onnx"));
  }

  @Test
  void outputSpelledThroughAFolderLinkedToItsParentIsSeenThrough() throws Exception {
    Path models = Files.createDirectory(work.resolve("models"));
    PipelineFixtures.writeMlp(models.resolve("model.onnx"));
    Path up = Files.createSymbolicLink(models.resolve("up"), Path.of("..")); // models/up -> work
    // --output work/models/up/models is work/models
    assertRefusedAndUnchanged(
        spec(models.resolve("model.onnx"), up.resolve("models")).build(),
        "contains the input model");
  }

  @Test
  void modelInsideAFolderLinkedToItselfIsSeenThrough() throws Exception {
    Path models = Files.createDirectory(work.resolve("models"));
    PipelineFixtures.writeMlp(models.resolve("model.onnx"));
    Path self = Files.createSymbolicLink(models.resolve("self"), Path.of(".")); // self -> models
    Path out = Files.createDirectory(work.resolve("out"));
    Files.createSymbolicLink(out.resolve("in"), models); // out/in -> models: a harmless link
    // model: work/out/in/self/model.onnx is work/models/model.onnx; models may not be replaced
    Path spelled = out.resolve("in").resolve(self.getFileName()).resolve("model.onnx");
    assertRefusedAndUnchanged(
        spec(spelled, models).build(),
        "contains the input model " + spelled + " (real path " + models.toRealPath());
    // out may (deleting the link out/in deletes no input)
    runner.run(
        spec(models.resolve("model.onnx"), out).build(), RunOptions.defaults().withOverwrite(true));
    assertThat(out.resolve(PipelineRunner.MODEL_FILE)).isRegularFile();
    assertThat(models.resolve("model.onnx")).isRegularFile();
  }

  @Test
  void externalDataFileInsideTheOutputIsNotReplaced() throws Exception {
    Path src = Files.createDirectory(work.resolve("src"));
    Path model = src.resolve("model.onnx");
    OnnxWriter.write(PipelineFixtures.mlp(), model, OnnxWriter.Options.externalData(0));
    Path data = src.resolve("model.onnx.data");
    assertThat(data).isRegularFile();
    // The weights live in the old output; the model's folder links to them.
    Path out = Files.createDirectory(work.resolve("out"));
    Files.move(data, out.resolve("weights.bin"));
    Files.createSymbolicLink(data, out.resolve("weights.bin"));
    assertRefusedAndUnchanged(
        spec(model, out).build(), "contains the input model's external-data file " + data);
  }

  @Test
  void hardLinkedModelInsideTheOutputIsNotReplaced() throws Exception {
    Path model = PipelineFixtures.writeMlp(work.resolve("model.onnx"));
    Path out = Files.createDirectories(work.resolve("out/sub"));
    Files.createLink(out.resolve("same.onnx"), model);
    assertRefusedAndUnchanged(
        spec(model, work.resolve("out")).build(), ", the same file as the input model " + model);
  }

  @Test
  void calibrationFileInsideTheOutputIsNotReplaced() throws Exception {
    Path model = PipelineFixtures.writeMlp(work.resolve("model.onnx"));
    Path out = Files.createDirectory(work.resolve("out"));
    Path calib = Files.writeString(out.resolve("calibration.txt"), "one\ntwo\n");
    Path calibLink = Files.createSymbolicLink(work.resolve("calib.txt"), calib);
    for (Path source : List.of(calib, calibLink)) {
      assertRefusedAndUnchanged(
          spec(model, out).calibration(CalibrationSpec.defaults(source.toString())).build(),
          "contains the calibration source (calibration.source) " + source);
    }
  }

  @Test
  void realPathOfAMissingFolderResolvesItsExistingPart() throws Exception {
    Path real = Files.createDirectory(work.resolve("real"));
    Path link = Files.createSymbolicLink(work.resolve("link"), real);
    assertThat(InputGuard.realPathOfExisting(link.resolve("a/b")))
        .isEqualTo(real.toRealPath().resolve("a/b"));
  }
}
