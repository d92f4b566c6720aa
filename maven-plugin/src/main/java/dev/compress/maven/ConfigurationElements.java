package dev.compress.maven;

import dev.compress.api.pipeline.DidYouMean;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.maven.model.Plugin;
import org.apache.maven.model.PluginExecution;
import org.apache.maven.plugin.MojoExecution;
import org.apache.maven.plugin.descriptor.MojoDescriptor;
import org.apache.maven.plugin.descriptor.Parameter;
import org.apache.maven.project.MavenProject;
import org.codehaus.plexus.util.xml.Xpp3Dom;

/**
 * Checks the top-level elements of the plugin's {@code <configuration>} against the plugin's
 * parameters, so a misspelled element ({@code <evalute>}) fails the build naming the closest
 * parameter instead of being ignored after Maven's generic "Parameter 'evalute' is unknown"
 * warning.
 *
 * <p>Maven drops unknown elements from the configuration it hands the goal ({@link
 * MojoExecution#getConfiguration()} holds only the goal's parameters by then), so the elements are
 * read where Maven reads them: the execution's configuration in the project's model (where the
 * plugin-level configuration is already merged in), or the plugin-level configuration for a goal
 * run from the command line. As Maven does, an element is unknown only when no goal of this plugin
 * has a parameter of that name: configuration shared at the plugin level (the evaluate goal's
 * {@code gates}) is not an error when the compress goal runs.
 */
final class ConfigurationElements {
  private ConfigurationElements() {}

  /**
   * The top-level element names the POM gives this execution, in document order; empty when the
   * plugin is not configured in the POM.
   */
  static List<String> of(MavenProject project, MojoExecution execution) {
    String key = Plugin.constructKey(execution.getGroupId(), execution.getArtifactId());
    Plugin plugin = find(project.getBuildPlugins(), key);
    if (plugin == null && project.getPluginManagement() != null) {
      plugin = find(project.getPluginManagement().getPlugins(), key);
    }
    if (plugin == null) {
      return List.of();
    }
    PluginExecution pe = plugin.getExecutionsAsMap().get(execution.getExecutionId());
    Object config = pe != null ? pe.getConfiguration() : plugin.getConfiguration();
    List<String> names = new ArrayList<>();
    if (config instanceof Xpp3Dom dom) {
      for (Xpp3Dom c : dom.getChildren()) {
        names.add(c.getName());
      }
    }
    return names;
  }

  private static Plugin find(List<Plugin> plugins, String key) {
    for (Plugin p : plugins) {
      if (p.getKey().equals(key)) {
        return p;
      }
    }
    return null;
  }

  /** The parameter names (and aliases) of every goal of the execution's plugin. */
  static Set<String> parameters(MojoExecution execution) {
    Set<String> names = new TreeSet<>();
    for (MojoDescriptor m : execution.getMojoDescriptor().getPluginDescriptor().getMojos()) {
      if (m.getParameters() == null) {
        continue;
      }
      for (Parameter p : m.getParameters()) {
        if (p.isEditable()) {
          names.add(p.getName());
          if (p.getAlias() != null && !p.getAlias().isEmpty()) {
            names.add(p.getAlias());
          }
        }
      }
    }
    return names;
  }

  /**
   * The problem with the elements not in {@code known}, as one line naming each and its closest
   * parameter, or empty when all are known.
   *
   * @param goal the goal name, for the message
   * @param plugin the plugin's artifact id, for the message
   */
  static Optional<String> problem(
      String goal, String plugin, List<String> elements, Collection<String> known) {
    List<String> unknown = elements.stream().filter(e -> !known.contains(e)).distinct().toList();
    if (unknown.isEmpty()) {
      return Optional.empty();
    }
    if (unknown.size() == 1) {
      String e = unknown.get(0);
      return Optional.of(
          goal
              + ": <"
              + e
              + "> in the plugin's <configuration> is not a parameter of "
              + plugin
              + "; "
              + closest(e, known)
                  .map(n -> "did you mean <" + n + ">?")
                  .orElse("the parameters are " + known));
    }
    List<String> parts = new ArrayList<>();
    for (String e : unknown) {
      parts.add(
          "<" + e + ">" + closest(e, known).map(n -> " (did you mean <" + n + ">?)").orElse(""));
    }
    return Optional.of(
        goal
            + ": elements of the plugin's <configuration> that are not parameters of "
            + plugin
            + ": "
            + String.join(", ", parts)
            + "; the parameters are "
            + known);
  }

  /** The closest of {@code known} to {@code word}, if close enough to be a likely typo. */
  static Optional<String> closest(String word, Collection<String> known) {
    return DidYouMean.nearest(word, known);
  }
}
