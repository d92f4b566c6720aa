package dev.compress.maven;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
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
    String w = word.toLowerCase(Locale.ROOT);
    String best = null;
    int bestDist = Integer.MAX_VALUE;
    for (String k : known) {
      int d = distance(w, k.toLowerCase(Locale.ROOT));
      if (d < bestDist) {
        bestDist = d;
        best = k;
      }
    }
    int limit = Math.min(3, Math.max(1, word.length() / 3));
    return best != null && bestDist <= limit ? Optional.of(best) : Optional.empty();
  }

  /** Edit distance with adjacent transpositions as one edit (optimal string alignment). */
  private static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(d[i - 1][j - 1] + cost, Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1));
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
