package dev.compress.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.compress.api.ConfigException;
import dev.compress.api.io.ModelFiles;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.RunOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code validate} and {@code run} give the same verdict on every pipeline config in the repository
 * and on each kind of config that {@code run} used to refuse only after work had started (after
 * calibration, or after the passes, at evaluation).
 *
 * <p>The configs in the repository (this folder, {@code evaluation/bench}, the Maven plugin's
 * integration tests) must validate; that they also run is {@link SampleConfigsTest}'s and those
 * modules' job. Each file in {@code src/test/resources/invalid} (its first line {@code # expect:
 * TEXT}) must be refused by {@code validate}, and by {@code run} with the very same problems, from
 * its checks before any work: nothing is written, and the problems are those of the check phase (a
 * pass or the evaluation failing later words them differently or prefixes the pass).
 */
class ValidateAgreesWithRunTest {
  @TempDir static Path tmp;

  static List<Path> repoConfigs() throws IOException {
    List<Path> all = new ArrayList<>();
    for (Path dir :
        List.of(Path.of("."), Path.of("../evaluation/bench"), Path.of("../maven-plugin/src/it"))) {
      try (Stream<Path> s = Files.walk(dir, dir.equals(Path.of(".")) ? 1 : 8)) {
        s.filter(p -> p.toString().endsWith(".yaml")).sorted().forEach(all::add);
      }
    }
    assertThat(all).hasSizeGreaterThanOrEqualTo(6);
    return all;
  }

  static List<Path> invalidConfigs() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("src/test/resources/invalid"))) {
      List<Path> all = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
      assertThat(all).isNotEmpty();
      return all;
    }
  }

  @ParameterizedTest
  @MethodSource("repoConfigs")
  void everyConfigInTheRepositoryValidates(Path yaml) throws Exception {
    PipelineRunner runner = new PipelineRunner();
    // A config that reads fetched data (scripts/fetch-*.sh) validates with the source its run test
    // uses (and a sample count that source holds); every other key is validated as written.
    List<String> source =
        SampleConfigsTest.SHORT.getOrDefault(yaml.getFileName().toString(), List.of()).stream()
            .filter(
                o -> o.startsWith("calibration.source=") || o.startsWith("calibration.samples="))
            .toList();
    if (source.stream().noneMatch(o -> o.startsWith("calibration.source="))) {
      source = List.of();
    }
    assertThat(runner.validate(PipelineSpec.load(yaml, runner.registry(), source)).passes())
        .isNotEmpty();
  }

  @ParameterizedTest
  @MethodSource("invalidConfigs")
  void validateRefusesWhatRunRefusesWithTheSameProblems(Path yaml) throws Exception {
    String expect = Files.readAllLines(yaml).getFirst().replaceFirst("^# expect: ", "");
    PipelineRunner runner = new PipelineRunner();
    Path out = tmp.resolve(yaml.getFileName().toString().replace(".yaml", ""));
    List<String> model = List.of();
    if (yaml.getFileName().toString().equals("missing-tokenizer.yaml")) {
      Path dir = Files.createDirectories(tmp.resolve("no-tokenizer"));
      Path copy = dir.resolve("model.onnx");
      if (!Files.exists(copy)) {
        Files.copy(ModelFiles.load("builtin:all-minilm-l6-v2").path(), copy);
      }
      model = List.of("model=" + copy);
    }
    List<String> overrides = new ArrayList<>(model);
    overrides.add("output.dir=" + out);

    List<String> validate =
        problems(() -> runner.validate(PipelineSpec.load(yaml, runner.registry(), overrides)));
    List<String> run =
        problems(
            () ->
                runner.run(
                    PipelineSpec.load(yaml, runner.registry(), overrides), RunOptions.defaults()));
    assertThat(validate).as("validate").anyMatch(p -> p.contains(expect));
    assertThat(run).as("run").isEqualTo(validate);
    assertThat(out).doesNotExist();
  }

  private interface Call {
    void call() throws Exception;
  }

  private static List<String> problems(Call c) {
    ConfigException e = catchThrowableOfType(ConfigException.class, c::call);
    assertThat(e).as("a ConfigException").isNotNull();
    return e.problems();
  }
}
