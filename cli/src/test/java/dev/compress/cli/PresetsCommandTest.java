package dev.compress.cli;

import static dev.compress.cli.InspectCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.pipeline.PassRegistry;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.Presets;
import dev.compress.cli.InspectCommandTest.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code --scheme NAME} and {@code preset: NAME}; {@code validate --resolved}. */
class PresetsCommandTest {
  private static final String MINILM = "builtin:all-minilm-l6-v2";

  static List<String> presets() {
    return Presets.NAMES;
  }

  /**
   * Each preset validates on the built-in MiniLM, and what {@code --resolved} prints reads back to
   * the same spec, which validates again as a plain file (what {@code compress run} reads).
   */
  @ParameterizedTest
  @MethodSource("presets")
  void validatesOnMiniLmAndTheResolvedYamlReadsBackEqual(String name, @TempDir Path dir)
      throws Exception {
    Result r = run("validate", "--scheme", name, "--model", MINILM, "--resolved");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).doesNotContain("preset").contains("model: " + MINILM);
    PassRegistry registry = PassRegistry.load();
    PipelineSpec printed = PipelineSpec.fromYaml(r.out(), registry);
    PipelineSpec direct =
        PipelineSpec.fromYaml("preset: " + name + "\nmodel: " + MINILM + "\n", registry);
    assertThat(printed).isEqualTo(direct);
    assertThat(printed.output().dir()).isEqualTo(Path.of("out", name));
    Path file = dir.resolve(name + ".yaml");
    Files.writeString(file, r.out());
    Result again = run("validate", file.toString());
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.out()).contains("is valid");
  }

  @Test
  void theResolvedPipelinesPassesAreTheRecipes() throws Exception {
    PassRegistry registry = PassRegistry.load();
    assertThat(types("w8a8", registry)).containsExactly("smoothquant", "ptq-static");
    assertThat(types("w8a8-dynamic", registry)).containsExactly("ptq-dynamic");
    assertThat(types("w4a16", registry)).containsExactly("gptq");
    assertThat(types("fp8", registry)).containsExactly("fp8-quantization");
    assertThat(types("edge", registry))
        .containsExactly("layer-drop", "distill", "smoothquant", "ptq-static");
    String w4 = resolved("w4a16");
    assertThat(w4).contains("bits: 4", "groupSize: 128", "actOrder: true");
    assertThat(resolved("edge")).contains("embeddingBits: 4");
  }

  @Test
  void anUnknownSchemeIsOneLineListingTheKnownOnes() {
    Result r = run("validate", "--scheme", "w8a9", "--model", MINILM);
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err().strip())
        .contains(
            "--scheme: unknown scheme 'w8a9'; did you mean 'w8a8'?; known: [w8a8, w8a8-dynamic,"
                + " w4a16, fp8, edge]")
        .doesNotContain("\n");
    Result run = run("run", "--scheme", "int3", "--model", MINILM);
    assertThat(run.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(run.err()).contains("--scheme: unknown scheme 'int3'; known: [w8a8,");
  }

  @Test
  void keysOfTheFileAndSetWinOverTheScheme(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("mine.yaml");
    Files.writeString(
        p,
        "preset: w8a8-dynamic\n" // --scheme replaces it
            + "model: "
            + MINILM
            + "\ncalibration: {samples: 16}\n"
            + "evaluate: {samples: 20}\n"
            + "output: {dir: "
            + dir.resolve("out")
            + "}\n");
    Result r =
        run(
            "validate",
            p.toString(),
            "--scheme",
            "w8a8",
            "--set",
            "passes[1].observer=minmax",
            "--resolved");
    assertThat(r.code()).as(r.err()).isZero();
    PipelineSpec s = PipelineSpec.fromYaml(r.out(), PassRegistry.load());
    assertThat(s.passes())
        .extracting(PipelineSpec.PassSpec::type)
        .containsExactly("smoothquant", "ptq-static");
    assertThat(r.out()).contains("observer: minmax");
    assertThat(s.calibration().orElseThrow().samples()).isEqualTo(16); // the file's
    assertThat(s.calibration().orElseThrow().sequenceLength()).isEqualTo(128); // the scheme's
    assertThat(s.evaluate().orElseThrow().samples()).isEqualTo(20);
    assertThat(s.evaluate().orElseThrow().gates()).containsKey("cosine.mean");
    assertThat(s.output().dir()).isEqualTo(dir.resolve("out"));
  }

  @Test
  void aPresetKeyInTheFileWorksWithoutScheme(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("p.yaml");
    Files.writeString(p, "preset: w4a16\nmodel: " + MINILM + "\n");
    Result r = run("validate", p.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("passes[0] gptq", "ok: " + p + " is valid");
  }

  @Test
  void aSchemeWithoutAModelSaysWhatIsMissing() {
    Result r = run("validate", "--scheme", "w8a8");
    assertThat(r.code()).isEqualTo(CompressCommand.USAGE);
    assertThat(r.err()).contains("model is required");
  }

  private static List<String> types(String name, PassRegistry registry) throws Exception {
    return PipelineSpec.fromYaml(resolved(name), registry).passes().stream()
        .map(PipelineSpec.PassSpec::type)
        .toList();
  }

  private static String resolved(String name) {
    Result r = run("validate", "--scheme", name, "--model", MINILM, "--resolved");
    assertThat(r.code()).as(r.err()).isZero();
    return r.out();
  }
}
