package dev.compress.maven;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.pipeline.PassRegistry;
import dev.compress.api.pipeline.PipelineSpec;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.maven.plugin.MojoFailureException;
import org.codehaus.plexus.configuration.xml.XmlPlexusConfiguration;
import org.codehaus.plexus.util.xml.Xpp3DomBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineSourceTest {
  private static final PassRegistry REGISTRY = PassRegistry.load();

  @TempDir Path dir;

  private static PomElement xml(String s) throws Exception {
    return PomElement.from(new XmlPlexusConfiguration(Xpp3DomBuilder.build(new StringReader(s))));
  }

  private static final String YAML =
      """
      apiVersion: compress/v1
      kind: Pipeline
      model: builtin:all-minilm-l6-v2
      seed: 3
      passes:
        - type: rtn-quantization
          targets: ["re:.*MatMul"]
          bits: 4
          granularity: per_group
          groupSize: 32
      evaluate:
        data: heldout.txt
        samples: 8
        latencyBatchSizes: [1]
        gates: {cosine.mean: ">= 0.9"}
      output: {dir: somewhere-else}
      """;

  private static final String PASSES =
      """
      <passes><pass>
        <type>rtn-quantization</type>
        <targets><target>re:.*MatMul</target></targets>
        <bits>4</bits>
        <granularity>per_group</granularity>
        <groupSize>32</groupSize>
      </pass></passes>""";

  private static final String EVALUATE =
      """
      <evaluate><data>heldout.txt</data><samples>8</samples>
      <latencyBatchSizes><size>1</size></latencyBatchSizes>
      <gates><cosine.mean>&gt;= 0.9</cosine.mean></gates></evaluate>""";

  @Test
  void inlineConfigurationBindsToTheSameSpecAsTheYaml() throws Exception {
    Files.writeString(dir.resolve("p.yaml"), YAML);
    Path out = dir.resolve("target/compress");
    PipelineSpec fromYaml =
        PipelineSource.of(
                "compress",
                dir,
                Path.of("p.yaml"),
                new PipelineSource.Inline(null, null, null, null, null),
                REGISTRY)
            .bind(out, REGISTRY);
    PipelineSpec inline =
        PipelineSource.of(
                "compress",
                dir,
                null,
                new PipelineSource.Inline(
                    "builtin:all-minilm-l6-v2", 3L, null, xml(PASSES), xml(EVALUATE)),
                REGISTRY)
            .bind(out, REGISTRY);
    assertThat(inline).isEqualTo(fromYaml);
    // Output goes where the plugin says, replaced on each run; relative data is under basedir.
    assertThat(inline.output().dir()).isEqualTo(out.toAbsolutePath());
    assertThat(inline.output().overwrite()).isTrue();
    assertThat(inline.evaluate().orElseThrow().data())
        .isEqualTo(dir.resolve("heldout.txt").toString());
  }

  @Test
  void inlineElementsReplaceTheFilesKeys() throws Exception {
    Files.writeString(dir.resolve("p.yaml"), YAML);
    PipelineSource s =
        PipelineSource.of(
            "compress",
            dir,
            Path.of("p.yaml"),
            new PipelineSource.Inline(null, 9L, null, null, null),
            REGISTRY);
    s.addGates(Map.of("cosine.min", ">= 0.5"));
    PipelineSpec spec = s.bind(dir.resolve("out"), REGISTRY);
    assertThat(spec.seed()).isEqualTo(9);
    assertThat(spec.evaluate().orElseThrow().gates())
        .containsEntry("cosine.mean", ">= 0.9")
        .containsEntry("cosine.min", ">= 0.5");
  }

  @Test
  void theDeviceElementSetsWhereThePassesRun() throws Exception {
    Files.writeString(dir.resolve("p.yaml"), YAML);
    assertThat(withDevice("auto").bind(dir.resolve("out"), REGISTRY).device()).isEqualTo("auto");
    PipelineSource bad = withDevice("gpuu");
    assertThatThrownBy(() -> bad.bind(dir.resolve("out"), REGISTRY))
        .hasMessageContaining(
            "<device> must be one of [cpu, gpu, auto], found 'gpuu'; did you mean 'gpu'?");
  }

  private PipelineSource withDevice(String device) throws MojoFailureException {
    return PipelineSource.of(
        "compress",
        dir,
        Path.of("p.yaml"),
        new PipelineSource.Inline(null, null, device, null, null, null),
        REGISTRY);
  }

  @Test
  void problemsNameThePomElements() throws Exception {
    PomElement passes =
        xml(
            """
            <passes>
              <pass><type>rtn-quantisation</type></pass>
              <pass><type>rtn-quantization</type><bitz>8</bitz><bits>3</bits></pass>
            </passes>""");
    PipelineSource s =
        PipelineSource.of(
            "compress",
            dir,
            null,
            new PipelineSource.Inline("builtin:all-minilm-l6-v2", null, null, passes, null),
            REGISTRY);
    assertThatThrownBy(() -> s.bind(dir.resolve("out"), REGISTRY))
        .isInstanceOf(MojoFailureException.class)
        .hasMessageContaining("compress: the pipeline configuration has 3 problems")
        .hasMessageContaining("<passes>[0].type: unknown pass 'rtn-quantisation'; known: [")
        .hasMessageContaining(" rtn-quantization, ")
        .hasMessageContaining("(did you mean 'rtn-quantization'?)")
        .hasMessageContaining("<passes>[1].bitz: unknown key; did you mean 'bits'?")
        .hasMessageContaining("<passes>[1].bits");
  }

  @Test
  void aliasesInThePipelineFileAreResolvedAsInTheCli() throws Exception {
    // an anchor on the model, an alias in evaluate.data (read as the name "m" before)
    String aliased =
        YAML.replace("model: builtin:all-minilm-l6-v2", "model: &m builtin:all-minilm-l6-v2")
            .replace("data: heldout.txt", "data: *m");
    Files.writeString(dir.resolve("p.yaml"), aliased);
    PipelineSpec spec =
        PipelineSource.of(
                "compress",
                dir,
                Path.of("p.yaml"),
                new PipelineSource.Inline(null, null, null, null, null),
                REGISTRY)
            .bind(dir.resolve("out"), REGISTRY);
    assertThat(spec.evaluate().orElseThrow().data()).endsWith("builtin:all-minilm-l6-v2");
    Files.writeString(dir.resolve("bad.yaml"), "passes: [\n  - type: x\n");
    assertThatThrownBy(
            () ->
                PipelineSource.of(
                    "compress",
                    dir,
                    Path.of("bad.yaml"),
                    new PipelineSource.Inline(null, null, null, null, null),
                    REGISTRY))
        .isInstanceOf(MojoFailureException.class)
        .hasMessageContaining("compress: <pipeline> ")
        .hasMessageContaining("bad.yaml:");
  }

  @Test
  void problemsInTheFileNameTheFile() throws Exception {
    Files.writeString(dir.resolve("p.yaml"), YAML.replace("bits: 4", "bitz: 4"));
    PipelineSource s =
        PipelineSource.of(
            "compress",
            dir,
            Path.of("p.yaml"),
            new PipelineSource.Inline(null, null, null, null, null),
            REGISTRY);
    assertThatThrownBy(() -> s.bind(dir.resolve("out"), REGISTRY))
        .isInstanceOf(MojoFailureException.class)
        .hasMessageContaining(
            "<pipeline> p.yaml: passes[0].bitz: unknown key; did you mean 'bits'?");
  }

  @Test
  void missingPipelineAndMissingFileAreFailures() {
    assertThatThrownBy(
            () ->
                PipelineSource.of(
                    "compress",
                    dir,
                    null,
                    new PipelineSource.Inline(null, null, null, null, null),
                    REGISTRY))
        .isInstanceOf(MojoFailureException.class)
        .hasMessageContaining("give <pipeline>");
    assertThatThrownBy(
            () ->
                PipelineSource.of(
                    "compress",
                    dir,
                    Path.of("nope.yaml"),
                    new PipelineSource.Inline(null, null, null, null, null),
                    REGISTRY))
        .isInstanceOf(MojoFailureException.class)
        .hasMessageContaining("<pipeline>: no such file: " + dir.resolve("nope.yaml"));
  }

  @Test
  void gatesWithoutAnEvaluateBlockAreAFailure() throws Exception {
    PipelineSource s =
        PipelineSource.of(
            "evaluate",
            dir,
            null,
            new PipelineSource.Inline("builtin:all-minilm-l6-v2", null, null, xml(PASSES), null),
            REGISTRY);
    assertThatThrownBy(() -> s.addGates(Map.of("cosine.mean", ">= 1")))
        .isInstanceOf(MojoFailureException.class)
        .hasMessageContaining("<gates> needs an evaluate block");
  }
}
