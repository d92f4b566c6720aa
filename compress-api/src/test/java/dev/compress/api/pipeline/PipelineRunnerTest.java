package dev.compress.api.pipeline;

import static dev.compress.api.pipeline.PipelineFixtures.LAYER0;
import static dev.compress.api.pipeline.PipelineFixtures.LAYER1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.pipeline.Evaluator.EvaluationResult;
import dev.compress.api.pipeline.PipelineFixtures.FakeCalibrationLoader;
import dev.compress.api.pipeline.PipelineFixtures.FakeEvaluator;
import dev.compress.api.pipeline.ScaleWeightsConfig.Mode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineRunnerTest {
  private static final PassRegistry REGISTRY = PassRegistry.load();

  @TempDir Path tmp;
  private Path model;
  private Path work; // the output's parent: must hold nothing but what a run leaves
  private final PipelineRunner runner =
      new PipelineRunner(
          REGISTRY, List.of(new FakeCalibrationLoader()), List.of(new FakeEvaluator(List.of())));

  @BeforeEach
  void setUp() throws IOException {
    model = PipelineFixtures.writeMlp(tmp.resolve("mlp.onnx"));
    work = Files.createDirectory(tmp.resolve("work"));
  }

  private PipelineSpec.Builder spec(PassConfig... passes) {
    PipelineSpec.Builder b =
        PipelineSpec.builder().model(model).output(work.resolve("out")).registry(REGISTRY);
    for (PassConfig p : passes) {
      b.pass(p);
    }
    return b;
  }

  private static ScaleWeightsConfig scale(LayerSelection sel, double noise, int failAfter) {
    return new ScaleWeightsConfig(
        sel, 0.5, noise, failAfter, Integer.MAX_VALUE, Mode.SCALE, List.of());
  }

  private List<String> entries(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static JsonNode json(Path p) throws IOException {
    return new ObjectMapper().readTree(p.toFile());
  }

  @Test
  void runWritesModelManifestAndReport() throws Exception {
    StringWriter printed = new StringWriter();
    PipelineSpec spec =
        spec(scale(LayerSelection.ALL, 0, -1))
            .seed(3)
            .evaluate(EvaluateSpec.defaults("sentences.txt"))
            .build();
    RunResult r = runner.run(spec, RunOptions.defaults().withOut(new PrintWriter(printed)));

    assertThat(entries(work)).containsExactly("out");
    assertThat(entries(r.outputDir()))
        .containsExactly("manifest.json", "model.onnx", "report.json");
    float[] w0 = OnnxReader.read(r.model()).graph().initializers().get("W0").toFloatArray();
    float[] orig = PipelineFixtures.mlp().graph().initializers().get("W0").toFloatArray();
    assertThat(w0[0]).isEqualTo(orig[0] * 0.5f);
    assertThat(r.passes().get(0).layersTouched()).containsExactly(LAYER0, LAYER1);
    assertThat(r.inputSha256()).isEqualTo(PipelineRunner.sha256(model)).hasSize(64);
    assertThat(printed.toString())
        .contains("pass 1/1 scale-weights: 2 layers changed, 0 skipped")
        .contains("cosine  1.0  0.995")
        .contains("wrote " + r.outputDir());

    JsonNode m = json(r.manifest());
    assertThat(m.path("manifestVersion").asInt()).isEqualTo(1);
    // the real version: project version + git commit (a build from a git checkout)
    assertThat(m.path("tool").path("version").asText())
        .matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?(\\+[0-9a-f]{10}(\\.dirty)?)?");
    for (String engine : List.of("djl", "pytorch", "onnxruntime")) {
      assertThat(m.path("tool").path("engines").path(engine).asText()).matches("\\d+\\.\\d+.*");
    }
    assertThat(m.path("environment").path("java").path("version").asText())
        .isEqualTo(Runtime.version().toString());
    assertThat(m.path("environment").path("os").path("arch").asText())
        .isEqualTo(System.getProperty("os.arch"));
    assertThat(m.path("environment").path("cpus").asInt())
        .isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(m.path("input").path("model").asText()).isEqualTo(model.toString());
    assertThat(m.path("input").path("sha256").asText()).isEqualTo(r.inputSha256());
    assertThat(m.path("seed").asLong()).isEqualTo(3);
    assertThat(m.path("calibration").isNull()).isTrue();
    JsonNode pipeline = m.path("pipeline");
    assertThat(pipeline.path("passes").get(0).path("noise").asDouble()).isZero(); // default filled
    assertThat(pipeline.path("evaluate").path("iterations").asInt()).isEqualTo(20);
    assertThat(PipelineSpec.fromTree(pipeline, REGISTRY)).isEqualTo(spec);
    JsonNode pass = m.path("passes").get(0);
    assertThat(pass.path("pass").asText()).isEqualTo("scale-weights");
    assertThat(pass.path("layersTouched").toString())
        .isEqualTo("[\"" + LAYER0 + "\",\"" + LAYER1 + "\"]");
    assertThat(pass.path("bytesBefore").asLong()).isEqualTo((32 + 16) * 4);
    assertThat(pass.path("metrics").path("factor").asDouble()).isEqualTo(0.5);
    assertThat(m.path("evaluation").path("metrics").path("cosine.mean").asDouble())
        .isEqualTo(0.995);
    assertThat(m.path("evaluation").path("data").path("data").asText()).contains("sha256 abc");
    assertThat(m.path("output").path("sha256").asText())
        .isEqualTo(r.outputSha256())
        .isEqualTo(PipelineRunner.sha256(r.model()));
    assertThat(m.path("output").path("files").get(0).path("name").asText()).isEqualTo("model.onnx");
    assertThat(m.path("timestamps").path("started").asText()).isNotEmpty();

    JsonNode report = json(r.report());
    assertThat(report.path("passes").get(0).path("layersTouched").size()).isEqualTo(2);
    assertThat(report.path("evaluation").path("gateFailures").size()).isZero();
    assertThat(report.path("table").asText()).contains("cosine");
  }

  @Test
  void rerunFromManifestIsByteIdentical() throws Exception {
    PipelineSpec spec = spec(scale(LayerSelection.ALL, 0.01, -1)).seed(42).build();
    RunResult first = runner.run(spec, RunOptions.defaults());
    RunResult again =
        runner.runFromManifest(first.manifest(), tmp.resolve("rerun"), RunOptions.defaults());
    assertThat(Files.mismatch(first.model(), again.model())).isEqualTo(-1L);
    assertThat(again.outputSha256()).isEqualTo(first.outputSha256());
    // The seed matters: another seed gives other noise, so the check above is not vacuous.
    RunResult other =
        runner.run(
            spec(scale(LayerSelection.ALL, 0.01, -1)).seed(43).output(tmp.resolve("o43")).build(),
            RunOptions.defaults());
    assertThat(other.outputSha256()).isNotEqualTo(first.outputSha256());
  }

  @Test
  void rerunRefusesAChangedInputModel() throws Exception {
    RunResult first =
        runner.run(spec(scale(LayerSelection.ALL, 0, -1)).build(), RunOptions.defaults());
    var changed = PipelineFixtures.mlp();
    changed.setProducerName("changed"); // still a valid model, but not the same file
    dev.compress.api.io.onnx.OnnxWriter.write(changed, model);
    assertThatThrownBy(
            () ->
                runner.runFromManifest(
                    first.manifest(), tmp.resolve("rerun"), RunOptions.defaults()))
        .isInstanceOf(CompressionException.class)
        .hasMessageContaining("has SHA-256")
        .hasMessageContaining("but the manifest recorded " + first.inputSha256());
    assertThat(tmp.resolve("rerun")).doesNotExist();
  }

  @Test
  void validateReportsEveryProblemAtOnce() {
    PipelineSpec spec =
        spec(
                new ScaleWeightsConfig(
                    new LayerSelection(List.of("re:.*/nothing/.*", LAYER0), List.of("/no/such")),
                    1,
                    0,
                    -1,
                    100,
                    Mode.SCALE,
                    List.of()),
                new ScaleWeightsConfig(LayerSelection.ALL, 1, 0, -1, 4, Mode.SCALE, List.of()),
                new CalibratedProvider.Config(LayerSelection.ALL),
                new ScaleWeightsConfig(
                    new LayerSelection(List.of(), List.of("re:.*")),
                    1,
                    0,
                    -1,
                    100,
                    Mode.SCALE,
                    List.of()))
            .evaluate(EvaluateSpec.defaults("s.txt"))
            .build();
    PipelineRunner bare = new PipelineRunner(REGISTRY, List.of(), List.of());
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> bare.validate(spec));
    assertThat(e.problems())
        .containsExactly(
            "passes[0].targets[0] 're:.*/nothing/.*' matches no linear layer",
            "passes[0].ignore[0] '/no/such' matches no linear layer",
            "passes[1] (scale-weights): layer '/layer0/MatMul': out features 8 > maxOutFeatures 4",
            "passes[2] (needs-calibration) needs calibration data; add a calibration block"
                + " (calibration: {source: ...})",
            "passes[3] (scale-weights) selects no linear layer (all are ignored)",
            "evaluate: no evaluator on the classpath (add compress-evaluation)");
  }

  @Test
  void validateDescribesWhatEachPassWouldTouch() throws Exception {
    PipelineSpec spec =
        spec(scale(new LayerSelection(List.of("re:/layer\\d/MatMul"), List.of(LAYER1)), 0, -1))
            .build();
    ValidationReport v = runner.validate(spec);
    assertThat(v.linearLayers()).isEqualTo(2);
    assertThat(v.passes())
        .singleElement()
        .satisfies(p -> assertThat(p.layers()).containsExactly(LAYER0));
  }

  @Test
  void teacherIsTheInputModelAndOnlyPassesThatAskGetIt() throws Exception {
    double original = TeacherProvider.weightSum(PipelineFixtures.mlp());
    PipelineSpec spec =
        spec(
                new TeacherProvider.Config(LayerSelection.ALL),
                scale(LayerSelection.ALL, 0, -1),
                new TeacherProvider.Config(LayerSelection.ALL))
            .build();
    RunResult r = runner.run(spec, RunOptions.defaults());
    assertThat(r.passes().get(0).metrics())
        .containsEntry("teacher", original)
        .containsEntry("model", original);
    // after scale-weights (weights times 0.5) the model changed; the teacher is still the input
    assertThat(r.passes().get(2).metrics()).containsEntry("teacher", original);
    assertThat(r.passes().get(2).metrics().get("model")).isNotCloseTo(original, within(1e-3));
  }

  @Test
  void calibrationIsLoadedPassedToPassesAndRecorded() throws Exception {
    PipelineSpec spec =
        spec(new CalibratedProvider.Config(LayerSelection.ALL))
            .calibration(CalibrationSpec.defaults("calib.txt"))
            .build();
    StringWriter warnings = new StringWriter();
    RunResult r = runner.run(spec, RunOptions.defaults().withWarnings(new PrintWriter(warnings)));
    assertThat(r.passes().get(0).metrics()).containsEntry("batches", 2.0);
    // Warnings: one line each on the warnings stream; notes and per-layer metrics as data.
    assertThat(warnings.toString())
        .isEqualTo(
            "warning: passes[0] (needs-calibration): layer 'layer0': few tokens. HINT: use more"
                + " samples"
                + System.lineSeparator());
    for (Path file : List.of(r.manifest(), r.report())) {
      JsonNode pass = json(file).path("passes").get(0);
      assertThat(pass.path("layerMetrics").path("layer0").path("tokens").asDouble()).isEqualTo(7);
      JsonNode notes = pass.path("notes");
      assertThat(notes.size()).isEqualTo(2);
      assertThat(notes.get(0).path("severity").asText()).isEqualTo("info");
      assertThat(notes.get(0).has("layer")).isFalse();
      assertThat(notes.get(1).path("severity").asText()).isEqualTo("warning");
      assertThat(notes.get(1).path("layer").asText()).isEqualTo("layer0");
      assertThat(notes.get(1).path("message").asText()).endsWith("HINT: use more samples");
    }
    JsonNode cal = json(r.manifest()).path("calibration");
    assertThat(cal.path("source").asText()).isEqualTo("calib.txt");
    assertThat(cal.path("sha256").asText()).isEqualTo("c0ffee");
    PipelineRunner noLoader = new PipelineRunner(REGISTRY, List.of(), List.of());
    assertThatThrownBy(() -> noLoader.validate(spec))
        .hasMessage(
            "calibration: no loader for kind 'text' on the classpath (add compress-runtime)");
  }

  @Test
  void evaluateWithoutAnEvaluatorOnTheClasspathFailsBeforeRunning() {
    PipelineSpec spec =
        spec(scale(LayerSelection.ALL, 0, -1)).evaluate(EvaluateSpec.defaults("s.txt")).build();
    PipelineRunner fromClasspath = new PipelineRunner(); // no Evaluator registered in this module
    assertThatThrownBy(() -> fromClasspath.run(spec, RunOptions.defaults()))
        .isInstanceOf(ConfigException.class)
        .hasMessage("evaluate: no evaluator on the classpath (add compress-evaluation)");
    assertThat(work).isEmptyDirectory();
  }

  @Test
  void failedGateThrowsAfterTheOutputsAreWritten() throws Exception {
    PipelineRunner gated =
        new PipelineRunner(
            REGISTRY, List.of(), List.of(new FakeEvaluator(List.of("cosine.min >= 0.98: 0.97"))));
    PipelineSpec spec =
        spec(scale(LayerSelection.ALL, 0, -1)).evaluate(EvaluateSpec.defaults("s.txt")).build();
    GateFailedException e =
        catchThrowableOfType(
            GateFailedException.class, () -> gated.run(spec, RunOptions.defaults()));
    assertThat(e.failures()).containsExactly("cosine.min >= 0.98: 0.97");
    assertThat(e.getMessage()).startsWith("evaluation gate failed: cosine.min >= 0.98: 0.97");
    assertThat(e.result().model()).exists();
    assertThat(json(e.result().report()).path("evaluation").path("gateFailures").get(0).asText())
        .isEqualTo("cosine.min >= 0.98: 0.97");
    assertThat(json(e.result().manifest()).path("evaluation").path("gateFailures").size()).isOne();
  }

  @Test
  void missingModelIsAConfigErrorAndWritesNothing() {
    PipelineSpec spec = spec(scale(LayerSelection.ALL, 0, -1)).model("no/such/model.onnx").build();
    assertThatThrownBy(() -> runner.run(spec, RunOptions.defaults()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("model: no such file: no/such/model.onnx");
    assertThatThrownBy(() -> runner.validate(spec)).isInstanceOf(ConfigException.class);
    assertThat(work).isEmptyDirectory();
  }

  @Test
  void corruptModelIsReportedAndWritesNothing() throws Exception {
    byte[] bytes = Files.readAllBytes(model);
    Path corrupt =
        Files.write(tmp.resolve("corrupt.onnx"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
    PipelineSpec spec = spec(scale(LayerSelection.ALL, 0, -1)).model(corrupt).build();
    assertThatThrownBy(() -> runner.run(spec, RunOptions.defaults()))
        .isInstanceOf(CorruptCheckpointException.class)
        .hasMessageContaining("corrupt.onnx");
    assertThat(work).isEmptyDirectory();
  }

  @Test
  void outputUnderAFileIsRefusedAndNothingIsWritten() throws Exception {
    Path file = Files.writeString(work.resolve("a-file"), "x");
    PipelineSpec spec =
        spec(scale(LayerSelection.ALL, 0, -1)).output(file.resolve("sub/out")).build();
    assertThatThrownBy(() -> runner.run(spec, RunOptions.defaults()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("output.dir: cannot create")
        .hasMessageContaining("is not a directory");
    assertThat(entries(work)).containsExactly("a-file");
  }

  @Test
  void readOnlyOutputParentIsRefusedAndNothingIsWritten() throws Exception {
    Path ro = Files.createDirectory(work.resolve("ro"));
    Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      assumeThat(Files.isWritable(ro)).as("not running as root").isFalse();
      PipelineSpec spec =
          spec(scale(LayerSelection.ALL, 0, -1)).output(ro.resolve("a/out")).build();
      assertThatThrownBy(() -> runner.run(spec, RunOptions.defaults()))
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("output.dir: cannot write to")
          .hasMessageContaining("permission denied");
      assertThat(ro).isEmptyDirectory();
    } finally {
      Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  @Test
  void missingParentFoldersAreCreatedAndRemovedAgainOnFailure() throws Exception {
    PipelineSpec ok =
        spec(scale(LayerSelection.ALL, 0, -1)).output(work.resolve("a/b/out")).build();
    assertThat(runner.run(ok, RunOptions.defaults()).model()).exists();
    PipelineSpec failing =
        spec(scale(LayerSelection.ALL, 0, 1)).output(work.resolve("c/d/out")).build();
    assertThatThrownBy(() -> runner.run(failing, RunOptions.defaults()))
        .isInstanceOf(IllegalStateException.class);
    assertThat(entries(work)).containsExactly("a");
  }

  @Test
  void existingOutputIsRefusedWithoutOverwriteAndLeftUnchanged() throws Exception {
    Path out = Files.createDirectory(work.resolve("out"));
    Files.writeString(out.resolve("keep.txt"), "mine");
    PipelineSpec spec = spec(scale(LayerSelection.ALL, 0, -1)).build();
    assertThatThrownBy(() -> runner.run(spec, RunOptions.defaults()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(out + " already exists; nothing was written")
        .hasMessageContaining("--overwrite");
    assertThat(entries(work)).containsExactly("out");
    assertThat(entries(out)).containsExactly("keep.txt");
    assertThat(out.resolve("keep.txt")).hasContent("mine");
  }

  @Test
  void overwriteReplacesTheOutputWhole() throws Exception {
    Path out = Files.createDirectory(work.resolve("out"));
    Files.writeString(out.resolve("keep.txt"), "mine");
    RunResult r =
        runner.run(
            spec(scale(LayerSelection.ALL, 0, -1)).build(),
            RunOptions.defaults().withOverwrite(true));
    assertThat(entries(out)).containsExactly("manifest.json", "model.onnx", "report.json");
    assertThat(entries(work)).containsExactly("out"); // the old one and the temp dir are gone
    assertThat(r.outputDir()).isEqualTo(out.toAbsolutePath().normalize());
    // output.overwrite in the spec has the same effect as the option
    runner.run(
        spec(scale(LayerSelection.ALL, 0, -1)).output(out, true).build(), RunOptions.defaults());
    assertThat(entries(work)).containsExactly("out");
  }

  @Test
  void aPassFailingMidwayLeavesNoPartialOutput() throws Exception {
    PipelineSpec spec = spec(scale(LayerSelection.ALL, 0, 1)).build();
    assertThatThrownBy(() -> runner.run(spec, RunOptions.defaults()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("simulated crash after 1 layers");
    assertThat(work).isEmptyDirectory(); // neither out nor .out.tmp-*

    // With overwrite, the previous output survives a failed run untouched.
    RunResult good =
        runner.run(spec(scale(LayerSelection.ALL, 0, -1)).build(), RunOptions.defaults());
    byte[] before = Files.readAllBytes(good.model());
    assertThatThrownBy(() -> runner.run(spec, RunOptions.defaults().withOverwrite(true)))
        .isInstanceOf(IllegalStateException.class);
    assertThat(entries(work)).containsExactly("out");
    assertThat(Files.readAllBytes(good.model())).isEqualTo(before);
  }

  @Test
  void outputDirectoryHoldingTheInputModelIsRefused() throws Exception {
    Path dir = Files.createDirectory(work.resolve("models"));
    Path inside = PipelineFixtures.writeMlp(dir.resolve("m.onnx"));
    PipelineSpec spec =
        spec(scale(LayerSelection.ALL, 0, -1)).model(inside).output(dir, true).build();
    assertThatThrownBy(() -> runner.run(spec, RunOptions.defaults()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("contains the input model");
    assertThat(entries(dir)).containsExactly("m.onnx");
    assertThat(entries(work)).containsExactly("models");
  }

  @Test
  void progressReachesTheListener() throws Exception {
    StringWriter sw = new StringWriter();
    runner.run(
        spec(scale(LayerSelection.ALL, 0, -1)).build(),
        RunOptions.defaults()
            .withProgress(ConsoleProgress.plain(new PrintWriter(sw), java.time.Duration.ZERO)));
    assertThat(sw.toString())
        .contains("scale-weights: 2 layers", "scale-weights: done, 2/2 layers");
  }

  @Test
  void theEvaluationGetsTheRunsProgressListener() throws Exception {
    List<ProgressListener> seen = new ArrayList<>();
    Evaluator recording =
        new Evaluator() {
          @Override
          public EvaluationResult evaluate(
              EvaluateSpec spec, Path original, Path compressed, String modelSpec) {
            throw new AssertionError("the runner must pass its progress listener");
          }

          @Override
          public EvaluationResult evaluate(
              EvaluateSpec spec,
              Path original,
              Path compressed,
              String modelSpec,
              ProgressListener progress) {
            seen.add(progress);
            return new FakeEvaluator(List.of()).evaluate(spec, original, compressed, modelSpec);
          }
        };
    ProgressListener listener = new ProgressListener() {};
    new PipelineRunner(REGISTRY, List.of(), List.of(recording))
        .run(
            spec(scale(LayerSelection.ALL, 0, -1)).evaluate(EvaluateSpec.defaults("s.txt")).build(),
            RunOptions.defaults().withProgress(listener));
    assertThat(seen).containsExactly(listener);
  }

  @Test
  void manifestWithoutPipelineOrWithBadJsonIsAConfigError() throws Exception {
    Path bad =
        Files.writeString(
            tmp.resolve("m.json"), "{\"manifestVersion\": 1, \"pipeline\": {\"kind\": 3}}");
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () -> runner.runFromManifest(bad, tmp.resolve("x"), RunOptions.defaults()));
    assertThat(e.problems()).allMatch(p -> p.startsWith("manifest " + bad + ": pipeline."));
    Path notJson = Files.writeString(tmp.resolve("n.json"), "{");
    assertThatThrownBy(() -> runner.runFromManifest(notJson, null, RunOptions.defaults()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("is not valid JSON");
    assertThatThrownBy(
            () -> runner.runFromManifest(tmp.resolve("none.json"), null, RunOptions.defaults()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("no such manifest");
  }

  @Test
  void unsupportedManifestVersionNamesTheValueFound() throws Exception {
    Path missing = Files.writeString(tmp.resolve("v0.json"), "{\"pipeline\": {}}");
    assertThatThrownBy(() -> runner.readManifest(missing))
        .isInstanceOf(ConfigException.class)
        .hasMessage("manifest " + missing + ": manifestVersion is missing (this tool reads 1..1)");
    Path future = Files.writeString(tmp.resolve("v9.json"), "{\"manifestVersion\": 9}");
    assertThatThrownBy(() -> runner.readManifest(future))
        .hasMessage(
            "manifest " + future + ": manifestVersion 9 is not supported (this tool reads 1..1)");
    Path text = Files.writeString(tmp.resolve("vs.json"), "{\"manifestVersion\": \"one\"}");
    assertThatThrownBy(() -> runner.readManifest(text))
        .hasMessageContaining("manifestVersion 'one' is not supported");
  }
}
