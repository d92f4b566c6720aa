package dev.compress.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.OpsetCheck;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.pipeline.EvaluateSpec;
import dev.compress.api.pipeline.PassRegistry;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.RunOptions;
import dev.compress.api.pipeline.RunResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every pipeline YAML in this module's folder, with small evaluation settings (in ONNX
 * Runtime), and checks each written model against the ONNX operator specification at the opset it
 * imports ({@link OpsetCheck}).
 */
class SampleConfigsTest {
  @TempDir static Path out;

  /**
   * Per-config overrides that keep a training run short ({@code run --set} syntax): the test checks
   * that the pipeline runs and writes a model ONNX Runtime loads, not what long training reaches.
   */
  static final Map<String, List<String>> SHORT =
      Map.of(
          "distill-minilm-3l.yaml",
          List.of(
              "calibration.samples=48",
              "passes[1].steps=2",
              "passes[1].batchSize=8",
              "evaluate.gates.cosine.mean=>= 0.2"),
          "distill-minilm-3l-text.yaml",
          List.of(
              "calibration.source=builtin:calibration-text", // the fetched text is not in tests
              "calibration.samples=48",
              "passes[1].steps=2",
              "passes[1].batchSize=8",
              "evaluate.gates.cosine.mean=>= 0.2"),
          "edge-minilm.yaml",
          List.of(
              "calibration.samples=32",
              "passes[1].steps=2",
              "passes[1].batchSize=8",
              "evaluate.gates.cosine.mean=>= 0.2"),
          "svdllm-20-lora.yaml",
          List.of(
              "calibration.samples=48",
              "passes[1].steps=2",
              "passes[1].batchSize=8",
              "evaluate.gates.cosine.mean=>= 0.2"));

  static List<Path> configs() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("."))) {
      List<Path> all = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
      assertThat(all).as("sample configs in " + Path.of(".").toAbsolutePath()).isNotEmpty();
      return all;
    }
  }

  @ParameterizedTest
  @MethodSource("configs")
  void runs(Path yaml) throws Exception {
    run(yaml, null);
  }

  /**
   * The same configs on the opset-11 export that most encoders in the wild resemble: passes that
   * write per-channel DequantizeLinear raise the opset to 13 themselves, and the gates still pass.
   */
  @ParameterizedTest
  @MethodSource("configs")
  void runsOnTheOpset11Export(Path yaml) throws Exception {
    // mixed-precision.yaml names the pooler's Gemm, which only the newer export has (a selector
    // that matches no layer is an error by design).
    Assumptions.assumeFalse(
        yaml.getFileName().toString().equals("mixed-precision.yaml"),
        "targets /pooler/dense/Gemm; the opset-11 export has no pooler");
    Path unpacked = Path.of("target", "test-models", "minilm-opset11");
    Path dir = out.resolve("opset11-model");
    Path model = dir.resolve("model.onnx");
    if (!Files.exists(model)) {
      Files.createDirectories(dir);
      Files.copy(unpacked.resolve("all-minilm-l6-v2.onnx"), model);
      Files.copy(
          unpacked.resolve("all-minilm-l6-v2-tokenizer.json"), dir.resolve("tokenizer.json"));
    }
    RunResult r = run(yaml, model);
    // awq fuses LayerNormalization, ONNX from opset 17, and raises the model to it.
    long opset = yaml.getFileName().toString().equals("awq-w4.yaml") ? 17 : 11;
    assertThat(OnnxReader.read(r.model()).opset("").orElseThrow()).isIn(opset, 13L);
  }

  /** The presets that have a sample config are that config, so the two cannot drift apart. */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"quickstart.yaml, w8a8", "edge-minilm.yaml, edge"})
  void aSampleConfigIsItsPresetSpelledOut(String file, String preset) throws Exception {
    PassRegistry registry = PassRegistry.load();
    PipelineSpec spelled = PipelineSpec.load(Path.of(file), registry);
    PipelineSpec expanded =
        PipelineSpec.fromYaml(
            "preset: "
                + preset
                + "\nmodel: "
                + spelled.model()
                + "\noutput: {dir: "
                + spelled.output().dir()
                + "}\n",
            registry);
    assertThat(spelled).isEqualTo(expanded);
  }

  private RunResult run(Path yaml, Path model) throws Exception {
    PipelineRunner runner = new PipelineRunner();
    PipelineSpec spec =
        PipelineSpec.load(
            yaml, runner.registry(), SHORT.getOrDefault(yaml.getFileName().toString(), List.of()));
    String name = yaml.getFileName().toString().replace(".yaml", "");
    Path dir = out.resolve(model == null ? name : name + "-opset11");
    spec = spec.withOutput(new PipelineSpec.Output(dir, false));
    if (model != null) {
      spec = spec.withModel(model.toString());
    }
    if (spec.evaluate().isPresent()) {
      EvaluateSpec e = spec.evaluate().get();
      // Small settings: the full sizes are for people, the test checks that the file runs.
      EvaluateSpec small =
          EvaluateSpec.builder(e.data())
              .task(e.task())
              .samples(Math.min(e.samples(), 24))
              .latencyBatchSizes(1)
              .sequenceLength(32)
              .iterations(2)
              .gates(e.gates())
              .build();
      spec =
          new PipelineSpec(
              spec.apiVersion(),
              spec.kind(),
              spec.model(),
              spec.calibration(),
              spec.passes(),
              java.util.Optional.of(small),
              spec.output(),
              spec.seed(),
              spec.device());
    }
    RunResult r = runner.run(spec, RunOptions.defaults());
    assertThat(r.model()).isRegularFile();
    assertThat(r.manifest()).isRegularFile();
    ModelGraph written = OnnxReader.read(r.model());
    assertThat(written.graph().nodes()).isNotEmpty();
    // The writer enforces it; checked again on the file as read back, with every operator known.
    OpsetCheck.Result conformance = OpsetCheck.check(written);
    assertThat(conformance.violations()).as(r.model().toString()).isEmpty();
    assertThat(conformance.notChecked()).as(r.model().toString()).isEmpty();
    // The evaluation loads and runs the written model in ONNX Runtime.
    assertThat(spec.evaluate())
        .hasValueSatisfying(e -> assertThat(e.engine()).isEqualTo("onnxruntime"));
    r.evaluation().ifPresent(ev -> assertThat(ev.gateFailures()).isEmpty());
    return r;
  }
}
