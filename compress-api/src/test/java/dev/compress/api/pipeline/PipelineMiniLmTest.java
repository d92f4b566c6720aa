package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline on the real built-in MiniLM (the jar is a test dependency). */
class PipelineMiniLmTest {
  private static final String QK = "re:/encoder/layer\\.0/attention/self/(query|key)/MatMul";

  @TempDir Path tmp;

  private static String yaml(String targets, Path out) {
    return """
        apiVersion: compress/v1
        kind: Pipeline
        model: builtin:all-minilm-l6-v2
        seed: 11
        passes:
          - type: scale-weights
            targets: ["%s"]
            factor: 0.9
            noise: 0.001
        output: {dir: "%s"}
        """
        .formatted(targets.replace("\\", "\\\\"), out);
  }

  @Test
  void runThenRerunFromManifestIsByteIdentical() throws Exception {
    PipelineRunner runner = new PipelineRunner();
    PipelineSpec spec = PipelineSpec.fromYaml(yaml(QK, tmp.resolve("out")), runner.registry());
    ValidationReport v = runner.validate(spec);
    assertThat(v.linearLayers()).isEqualTo(37);
    assertThat(v.passes().get(0).layers())
        .containsExactly(
            "/encoder/layer.0/attention/self/query/MatMul",
            "/encoder/layer.0/attention/self/key/MatMul");

    RunResult first = runner.run(spec, RunOptions.defaults());
    assertThat(first.passes().get(0).layersTouched()).hasSize(2);
    assertThat(
            new ObjectMapper()
                .readTree(first.manifest().toFile())
                .path("input")
                .path("model")
                .asText())
        .isEqualTo("builtin:all-minilm-l6-v2");
    RunResult again =
        runner.runFromManifest(first.manifest(), tmp.resolve("again"), RunOptions.defaults());
    assertThat(Files.mismatch(first.model(), again.model())).isEqualTo(-1L);
    assertThat(again.inputSha256()).isEqualTo(first.inputSha256());
  }

  @Test
  void aRegexMatchingNoLayerIsReportedByValidate() throws Exception {
    PipelineRunner runner = new PipelineRunner();
    PipelineSpec spec =
        PipelineSpec.fromYaml(
            yaml("re:.*/attention/self/qery/MatMul", tmp.resolve("o")), runner.registry());
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> runner.validate(spec));
    assertThat(e.problems())
        .containsExactly(
            "passes[0].targets[0] 're:.*/attention/self/qery/MatMul' matches no linear layer");
  }
}
