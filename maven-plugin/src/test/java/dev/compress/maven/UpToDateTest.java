package dev.compress.maven;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.ToolVersion;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.RunOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The incremental check against a real run: int8 RTN of the built-in MiniLM. */
class UpToDateTest {
  private static final PluginServices SERVICES = new PluginServices();

  @TempDir static Path dir;
  static Path out;
  static PipelineSpec spec;

  static PipelineSpec spec(String extra) throws Exception {
    String yaml =
        """
        apiVersion: compress/v1
        kind: Pipeline
        model: builtin:all-minilm-l6-v2
        passes:
          - type: rtn-quantization
            targets: ["re:.*MatMul"]
            bits: 8
        output: {dir: x}
        """
            + extra;
    Files.writeString(dir.resolve("p.yaml"), yaml);
    return PipelineSource.of(
            "compress",
            dir,
            Path.of("p.yaml"),
            new PipelineSource.Inline(null, null, null, null, null),
            SERVICES.registry())
        .bind(out, SERVICES.registry());
  }

  @BeforeAll
  static void runOnce() throws Exception {
    out = dir.resolve("target/compress");
    spec = spec("");
    SERVICES.runner().run(spec, RunOptions.defaults().withOverwrite(true));
  }

  @Test
  void sameInputsAreUpToDate() throws Exception {
    UpToDate.Verdict v = UpToDate.check(spec, out, SERVICES.calibrationLoaders());
    assertThat(v.upToDate()).as(v.reason()).isTrue();
    assertThat(v.reason())
        .contains("same model (SHA-256 ")
        .contains("tool version (" + ToolVersion.version() + ")");
    assertThat(v.gateFailures()).isEmpty();
  }

  @Test
  void aChangedPipelineIsStaleAndSaysWhat() throws Exception {
    UpToDate.Verdict v = UpToDate.check(spec("seed: 5\n"), out, SERVICES.calibrationLoaders());
    assertThat(v.upToDate()).isFalse();
    assertThat(v.reason()).isEqualTo("pipeline changed (seed)");
    v =
        UpToDate.check(
            spec("").withModel(spec.model()),
            dir.resolve("elsewhere"),
            SERVICES.calibrationLoaders());
    assertThat(v.upToDate()).isFalse();
    assertThat(v.reason()).startsWith("no previous output");
  }

  @Test
  void aTamperedOutputIsStale() throws Exception {
    Path copy = dir.resolve("copy");
    Files.createDirectories(copy);
    for (String f :
        new String[] {
          PipelineRunner.MODEL_FILE, PipelineRunner.MANIFEST_FILE, PipelineRunner.REPORT_FILE
        }) {
      Files.copy(out.resolve(f), copy.resolve(f));
    }
    PipelineSpec moved = spec.withOutput(new PipelineSpec.Output(copy, true));
    // The resolved pipeline names its output dir, so the copy differs there first.
    assertThat(UpToDate.check(moved, copy, SERVICES.calibrationLoaders()).reason())
        .isEqualTo("pipeline changed (output)");
    Files.writeString(out.resolve(PipelineRunner.MODEL_FILE), "x", StandardOpenOption.APPEND);
    try {
      UpToDate.Verdict v = UpToDate.check(spec, out, SERVICES.calibrationLoaders());
      assertThat(v.upToDate()).isFalse();
      assertThat(v.reason()).contains("model.onnx is missing or differs from the manifest");
    } finally {
      Files.copy(
          copy.resolve(PipelineRunner.MODEL_FILE),
          out.resolve(PipelineRunner.MODEL_FILE),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
