package dev.compress.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.pipeline.EvaluateSpec;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.RunOptions;
import dev.compress.api.pipeline.RunResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Runs every pipeline YAML in this module's folder, with small evaluation settings. */
class SampleConfigsTest {
  @TempDir static Path out;

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
    PipelineRunner runner = new PipelineRunner();
    PipelineSpec spec = PipelineSpec.load(yaml, runner.registry());
    Path dir = out.resolve(yaml.getFileName().toString().replace(".yaml", ""));
    spec = spec.withOutput(new PipelineSpec.Output(dir, false));
    if (spec.evaluate().isPresent()) {
      EvaluateSpec e = spec.evaluate().get();
      // Small settings: the full sizes are for people, the test checks that the file runs.
      EvaluateSpec small =
          new EvaluateSpec(
              e.task(), e.data(), Math.min(e.samples(), 24), List.of(1), 32, 2, e.gates());
      spec =
          new PipelineSpec(
              spec.apiVersion(),
              spec.kind(),
              spec.model(),
              spec.calibration(),
              spec.passes(),
              java.util.Optional.of(small),
              spec.output(),
              spec.seed());
    }
    RunResult r = runner.run(spec, RunOptions.defaults());
    assertThat(r.model()).isRegularFile();
    assertThat(r.manifest()).isRegularFile();
    assertThat(OnnxReader.read(r.model()).graph().nodes()).isNotEmpty();
    r.evaluation().ifPresent(ev -> assertThat(ev.gateFailures()).isEmpty());
  }
}
