package dev.compress.api.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.compress.api.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Aliases, merge keys, expansion bounds and syntax errors of pipeline YAML. */
class PipelineYamlTest {
  private static final PassRegistry REGISTRY = PassRegistry.load();

  private static final String HEAD = "apiVersion: compress/v1\nkind: Pipeline\nmodel: m.onnx\n";

  private static PipelineSpec spec(String yaml) throws ConfigException {
    return PipelineSpec.fromYaml(HEAD + yaml, REGISTRY);
  }

  private static ConfigException problem(Path file) {
    return catchThrowableOfType(ConfigException.class, () -> PipelineSpec.load(file, REGISTRY));
  }

  @Test
  void scalarAliasIsTheAnchoredValueNotItsName() throws Exception {
    PipelineSpec s =
        spec(
            "seed: &n 5\npasses:\n  - type: scale-weights\n    failAfter: *n\noutput: {dir: out}\n");
    assertThat(s.seed()).isEqualTo(5);
    assertThat(((ScaleWeightsConfig) s.passes().get(0).config()).failAfter()).isEqualTo(5);

    PipelineSpec t =
        spec("passes:\n  - type: scale-weights\n    tags: [&d out/run1]\n" + "output: {dir: *d}\n");
    assertThat(t.output().dir()).isEqualTo(Path.of("out/run1"));
  }

  @Test
  void listAliasIsTheAnchoredList() throws Exception {
    PipelineSpec s =
        spec(
            "passes:\n"
                + "  - type: scale-weights\n    targets: &t ['re:/layer0/.*', /layer1/MatMul]\n"
                + "  - type: scale-weights\n    targets: *t\n    factor: 0.5\n"
                + "output: {dir: out}\n");
    assertThat(s.passes().get(1).config().selection().targets())
        .containsExactly("re:/layer0/.*", "/layer1/MatMul");
  }

  @Test
  void mergeKeyCopiesKeysTheMappingDoesNotSet() throws Exception {
    PipelineSpec s =
        spec(
            "passes:\n"
                + "  - &base {type: scale-weights, factor: 0.5, tags: [a]}\n"
                + "  - <<: *base\n    factor: 0.25\n"
                + "output: {dir: out}\n");
    ScaleWeightsConfig second = (ScaleWeightsConfig) s.passes().get(1).config();
    assertThat(second.factor()).isEqualTo(0.25);
    assertThat(second.tags()).containsExactly("a");
    assertThat(s.passes().get(1).type()).isEqualTo("scale-weights");

    ConfigException e = catchThrowableOfType(ConfigException.class, () -> spec("a: 1\n<<: 3\n"));
    assertThat(e.getMessage()).contains("merge key (<<) takes a mapping").contains("found 3");
  }

  @Test
  void billionLaughsIsRefusedWithOneLineNamingTheFile(@TempDir Path dir) throws Exception {
    StringBuilder y = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (int i = 1; i <= 9; i++) {
      y.append("a").append(i).append(": &a").append(i).append(" [");
      for (int j = 0; j < 9; j++) {
        y.append(j > 0 ? ", " : "").append("*a").append(i - 1);
      }
      y.append("]\n");
    }
    Path f = dir.resolve("laughs.yaml");
    Files.writeString(f, y);
    ConfigException e = problem(f);
    assertThat(e.problems()).hasSize(1);
    assertThat(e.getMessage().lines().findFirst().orElseThrow())
        .startsWith(f + ":")
        .contains("expand to more than " + PipelineYaml.MAX_NODES + " nodes", "billion laughs");
  }

  @Test
  void undefinedAndRecursiveAliasesAreErrors() {
    assertThat(
            catchThrowableOfType(ConfigException.class, () -> spec("seed: *nope\n")).getMessage())
        .startsWith("<yaml>:4:7: alias *nope has no anchor &nope before it");
    assertThat(
            catchThrowableOfType(ConfigException.class, () -> spec("x: &r [1, *r]\n")).getMessage())
        .contains("alias *r refers to a node that contains it");
  }

  @Test
  void syntaxErrorIsOneLineWithTheSourceLineAndACaret(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, HEAD + "passes:\n  - type: scale-weights\n    factor: 4: 5\n");
    List<String> lines = problem(f).getMessage().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).isEqualTo(f + ":6:14: mapping values are not allowed here");
    assertThat(lines.get(1)).isEqualTo("      factor: 4: 5");
    assertThat(lines.get(2)).isEqualTo("               ^");
  }

  @Test
  void duplicateKeysAreRefusedWithTheirPlace() {
    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> spec("seed: 1\nseed: 2\n"));
    assertThat(e.getMessage()).startsWith("<yaml>:5:").contains("Duplicate field 'seed'");
  }
}
