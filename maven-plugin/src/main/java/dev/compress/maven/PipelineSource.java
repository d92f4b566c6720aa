package dev.compress.maven;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.pipeline.EvaluateSpec;
import dev.compress.api.pipeline.PassRegistry;
import dev.compress.api.pipeline.PipelineSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.maven.plugin.MojoFailureException;

/**
 * Assembles a {@link PipelineSpec} from what a POM gives: a pipeline YAML file, inline elements
 * ({@code <model>}, {@code <seed>}, {@code <device>}, {@code <calibration>}, {@code <passes>},
 * {@code <evaluate>}), or a YAML file with some of its top-level keys replaced inline. Both become
 * one tree that the pipeline's own binder checks ({@link PipelineSpec#fromData}), so the plugin
 * accepts exactly what the CLI accepts. Relative paths ({@code model}, {@code calibration.source},
 * {@code evaluate.data}) are resolved against the project's base directory, not Maven's working
 * directory; the output always goes to the plugin's {@code outputDirectory}.
 *
 * <p>Problems are reported all at once in a {@link MojoFailureException}, each naming where it is:
 * the POM element ({@code <passes>[1].bitz: unknown key; did you mean 'bits'?}) or the YAML file
 * and its key path.
 */
final class PipelineSource {
  /** Between the api's plain data and the trees the plugin edits. */
  private static final ObjectMapper TREES = new ObjectMapper();

  private static final Pattern TOP_KEY = Pattern.compile("^([A-Za-z]+)(?=[.\\[: ]|$)");

  private final Path basedir;
  private final Path pipelineFile;
  private final String goal;
  private final ObjectNode tree;
  private final Set<String> fromPom = new LinkedHashSet<>();

  /**
   * @param goal the goal name, for messages
   * @param basedir the project's base directory
   * @param pipelineFile the {@code <pipeline>} file, or null
   */
  private PipelineSource(String goal, Path basedir, Path pipelineFile, ObjectNode tree) {
    this.goal = goal;
    this.basedir = basedir;
    this.pipelineFile = pipelineFile;
    this.tree = tree;
  }

  /** The inline configuration of a goal. */
  record Inline(
      String model,
      Long seed,
      String device,
      PomElement calibration,
      PomElement passes,
      PomElement evaluate) {
    /** Without a device element. */
    Inline(
        String model, Long seed, PomElement calibration, PomElement passes, PomElement evaluate) {
      this(model, seed, null, calibration, passes, evaluate);
    }

    boolean definesPipeline() {
      return model != null || passes != null;
    }
  }

  /**
   * Reads the pipeline file (if any) and lays the inline elements over it.
   *
   * @throws MojoFailureException when neither is given, the file is missing or not YAML
   */
  static PipelineSource of(
      String goal, Path basedir, Path pipelineFile, Inline inline, PassRegistry registry)
      throws MojoFailureException {
    ObjectNode tree;
    if (pipelineFile != null) {
      Path f = basedir.resolve(pipelineFile).normalize();
      if (!Files.isRegularFile(f)) {
        throw new MojoFailureException(
            goal
                + ": <pipeline>: no such file: "
                + f
                + " (give a pipeline YAML, see sample-configs)");
      }
      JsonNode n;
      try {
        // The same reader as the CLI: aliases and merge keys resolved (bounded), one-line errors
        // with file:line:column and a caret.
        n = TREES.valueToTree(PipelineSpec.readYaml(f));
      } catch (ConfigException e) {
        throw new MojoFailureException(goal + ": <pipeline> " + e.getMessage());
      } catch (IOException e) {
        throw new MojoFailureException(goal + ": <pipeline>: cannot read " + f + ": " + e, e);
      }
      if (!(n instanceof ObjectNode o)) {
        throw new MojoFailureException(
            goal
                + ": <pipeline> "
                + f
                + " must be a mapping of apiVersion, kind, model, passes, ...");
      }
      tree = o;
      pipelineFile = f;
    } else {
      if (!inline.definesPipeline()) {
        throw new MojoFailureException(
            goal
                + ": no pipeline configured: give <pipeline> (a pipeline YAML file) or the pipeline"
                + " inline (<model> and <passes>, optionally <calibration>, <evaluate>, <seed>)");
      }
      tree = JsonNodeFactory.instance.objectNode();
      tree.put("apiVersion", PipelineSpec.API_VERSION);
      tree.put("kind", PipelineSpec.KIND);
    }
    PipelineSource s = new PipelineSource(goal, basedir, pipelineFile, tree);
    if (inline.model() != null) {
      s.set("model", JsonNodeFactory.instance.textNode(inline.model()));
    }
    if (inline.seed() != null) {
      s.set("seed", JsonNodeFactory.instance.numberNode(inline.seed()));
    }
    if (inline.device() != null) {
      s.set("device", JsonNodeFactory.instance.textNode(inline.device()));
    }
    if (inline.calibration() != null) {
      s.set("calibration", PomTree.record(inline.calibration(), CalibrationSpec.class));
    }
    if (inline.passes() != null) {
      s.set("passes", PomTree.passes(inline.passes(), registry));
    }
    if (inline.evaluate() != null) {
      s.set("evaluate", PomTree.record(inline.evaluate(), EvaluateSpec.class));
    }
    return s;
  }

  private void set(String key, JsonNode value) {
    tree.set(key, value);
    fromPom.add(key);
  }

  /** Whether the pipeline has an {@code evaluate} block. */
  boolean hasEvaluate() {
    return tree.hasNonNull("evaluate");
  }

  /**
   * Adds (or replaces) gates of the {@code evaluate} block.
   *
   * @throws MojoFailureException when there is no evaluate block to add them to
   */
  void addGates(Map<String, String> gates) throws MojoFailureException {
    if (gates == null || gates.isEmpty()) {
      return;
    }
    if (!(tree.get("evaluate") instanceof ObjectNode ev)) {
      throw new MojoFailureException(
          goal
              + ": <gates> needs an evaluate block saying what to measure: add <evaluate>"
              + " <data>builtin:heldout-sentences</data> ... </evaluate> (or an evaluate block in"
              + " the <pipeline> file)");
    }
    ObjectNode g =
        ev.get("gates") instanceof ObjectNode o ? o : JsonNodeFactory.instance.objectNode();
    gates.forEach(g::put);
    ev.set("gates", g);
    fromPom.add("evaluate");
  }

  /**
   * Binds the tree, with paths resolved against the base directory and the output directed to
   * {@code outputDir} (replaced on every run).
   *
   * @throws MojoFailureException listing every problem, each naming its POM element or file key
   */
  PipelineSpec bind(Path outputDir, PassRegistry registry) throws MojoFailureException {
    resolvePath(tree, "model");
    if (tree.get("calibration") instanceof ObjectNode c) {
      resolvePath(c, "source");
      resolvePath(c, "labels");
    }
    if (tree.get("evaluate") instanceof ObjectNode e) {
      resolvePath(e, "data");
      resolvePath(e, "labels");
    }
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("dir", outputDir.toAbsolutePath().normalize().toString());
    out.put("overwrite", true);
    tree.set("output", out);
    try {
      @SuppressWarnings("unchecked")
      Map<String, Object> data = TREES.convertValue(tree, Map.class);
      return PipelineSpec.fromData(data, registry);
    } catch (ConfigException e) {
      throw new MojoFailureException(describe(e.problems()));
    }
  }

  private void resolvePath(ObjectNode node, String key) {
    JsonNode v = node.get(key);
    if (v == null || !v.isTextual() || v.textValue().isBlank()) {
      return;
    }
    String s = v.textValue();
    if (BuiltinModels.isBuiltin(s)) {
      return;
    }
    Path p = Path.of(s);
    if (!p.isAbsolute()) {
      node.put(key, basedir.resolve(p).normalize().toString());
    }
  }

  /** The problems as one message: a header line, then one line per problem naming its place. */
  String describe(List<String> problems) {
    List<String> lines = new ArrayList<>();
    for (String p : problems) {
      lines.add("  " + where(p));
    }
    String header =
        goal
            + ": the pipeline configuration has "
            + (problems.size() == 1 ? "a problem" : problems.size() + " problems")
            + " (list indexes count from 0):";
    return header + System.lineSeparator() + String.join(System.lineSeparator(), lines);
  }

  /** A problem with its top-level key shown as the POM element, or the file it came from. */
  String where(String problem) {
    Matcher m = TOP_KEY.matcher(problem);
    if (m.find() && (pipelineFile == null || fromPom.contains(m.group(1)))) {
      return "<" + m.group(1) + ">" + problem.substring(m.end());
    }
    if (pipelineFile != null) {
      return "<pipeline> " + pipelineFile.getFileName() + ": " + problem;
    }
    return problem;
  }
}
