package dev.compress.maven;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.Reader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.maven.model.Build;
import org.apache.maven.model.Plugin;
import org.apache.maven.model.PluginExecution;
import org.apache.maven.plugin.MojoExecution;
import org.apache.maven.plugin.descriptor.PluginDescriptor;
import org.apache.maven.plugin.descriptor.PluginDescriptorBuilder;
import org.apache.maven.project.MavenProject;
import org.codehaus.plexus.util.xml.Xpp3DomBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Top-level configuration elements are checked against the generated descriptor's parameters. */
class ConfigurationElementsTest {
  private static PluginDescriptor descriptor;

  @BeforeAll
  static void readDescriptor() throws Exception {
    try (Reader r = Files.newBufferedReader(Path.of("target/classes/META-INF/maven/plugin.xml"))) {
      descriptor = new PluginDescriptorBuilder().build(r);
    }
  }

  private static MojoExecution execution(String goal, String id) {
    return new MojoExecution(descriptor.getMojo(goal), id);
  }

  private static MavenProject project(String pluginConfig, String executionId, String execConfig)
      throws Exception {
    Plugin p = new Plugin();
    p.setGroupId("dev.compress");
    p.setArtifactId("compress-maven-plugin");
    if (pluginConfig != null) {
      p.setConfiguration(Xpp3DomBuilder.build(new StringReader(pluginConfig)));
    }
    if (executionId != null) {
      PluginExecution e = new PluginExecution();
      e.setId(executionId);
      e.setConfiguration(Xpp3DomBuilder.build(new StringReader(execConfig)));
      p.addExecution(e);
    }
    MavenProject project = new MavenProject();
    project.getModel().setBuild(new Build());
    project.getBuild().addPlugin(p);
    return project;
  }

  private static String problem(MavenProject project, MojoExecution e) {
    return ConfigurationElements.problem(
            e.getMojoDescriptor().getGoal(),
            e.getArtifactId(),
            ConfigurationElements.of(project, e),
            ConfigurationElements.parameters(e))
        .orElse(null);
  }

  @Test
  void aMisspelledElementNamesTheClosestParameter() throws Exception {
    MavenProject p =
        project(
            null,
            "compress",
            "<configuration><model>builtin:all-minilm-l6-v2</model><evalute/></configuration>");
    assertThat(problem(p, execution("compress", "compress")))
        .isEqualTo(
            "compress: <evalute> in the plugin's <configuration> is not a parameter of"
                + " compress-maven-plugin; did you mean <evaluate>?");
  }

  @Test
  void aGoalRunFromTheCommandLineReadsThePluginLevelConfiguration() throws Exception {
    MavenProject p =
        project("<configuration><pipline>p.yaml</pipline><skipp/></configuration>", null, null);
    assertThat(problem(p, execution("evaluate", "default-cli")))
        .startsWith(
            "evaluate: elements of the plugin's <configuration> that are not parameters of"
                + " compress-maven-plugin: <pipline> (did you mean <pipeline>?), <skipp> (did you"
                + " mean <skip>?); the parameters are [");
  }

  @Test
  void parametersOfTheOtherGoalAndWellSpeltElementsPass() throws Exception {
    // gates belongs to evaluate, classifier to compress: shared plugin-level configuration.
    String config =
        "<configuration><pipeline>p.yaml</pipeline><gates><cosine.mean>&gt;= 0.9</cosine.mean>"
            + "</gates><classifier>small</classifier><outputDirectory>o</outputDirectory>"
            + "</configuration>";
    MavenProject p = project(config, "compress", config);
    assertThat(problem(p, execution("compress", "compress"))).isNull();
    assertThat(problem(p, execution("evaluate", "default-cli"))).isNull();
    assertThat(ConfigurationElements.parameters(execution("compress", "x")))
        .contains("pipeline", "gates", "classifier", "reportDirectory")
        .doesNotContain("project", "mojoExecution"); // read-only: not for the POM
  }

  @Test
  void anUnconfiguredPluginAndAFarMissHaveAnAnswerToo() throws Exception {
    assertThat(ConfigurationElements.of(new MavenProject(), execution("compress", "x"))).isEmpty();
    assertThat(
            ConfigurationElements.problem(
                "compress", "compress-maven-plugin", List.of("zzzzzz"), List.of("model", "seed")))
        .hasValue(
            "compress: <zzzzzz> in the plugin's <configuration> is not a parameter of"
                + " compress-maven-plugin; the parameters are [model, seed]");
  }
}
