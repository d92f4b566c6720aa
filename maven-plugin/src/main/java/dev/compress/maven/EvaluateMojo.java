package dev.compress.maven;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.pipeline.Evaluator;
import dev.compress.api.pipeline.Evaluator.EvaluationResult;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * A quality gate: measures the compressed model against the original with the pipeline's evaluator
 * (the one behind the YAML's {@code evaluate} block, found through {@link java.util.ServiceLoader})
 * and fails the build when a gate fails, e.g. fidelity below a bound ({@code cosine.mean >= 0.99})
 * or the latency ratio above one ({@code latency.b1.ratio <= 1.0}). The message names each failed
 * metric, its bound and the measured value. The report ({@code evaluation.json} and {@code
 * evaluation.txt}) is written either way.
 *
 * <p>What to measure comes from the pipeline's {@code evaluate} block (in the pipeline file, or the
 * inline evaluate element); the gates parameter adds or replaces gates. The original is the
 * pipeline's model; the compressed model is {@code outputDirectory/model.onnx}, as written by the
 * {@code compress} goal.
 *
 * <p>Bound by default to {@code verify}: after {@code package} made the model, before {@code
 * install}/{@code deploy} publish it.
 *
 * @since 0.1.0
 */
@Mojo(name = "evaluate", defaultPhase = LifecyclePhase.VERIFY, threadSafe = true)
public class EvaluateMojo extends AbstractPipelineMojo {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * Skips the gate. Also skipped when {@code compress.skip} is set, as there is then nothing to
   * evaluate.
   *
   * @since 0.1.0
   */
  @Parameter(property = "compress.evaluate.skip", defaultValue = "${compress.skip}")
  private boolean skip;

  /**
   * Gates to add to (or replace in) the evaluate block: one child element per gate, named by the
   * metric, whose text is the bound {@code OP NUMBER} with OP one of {@code >=}, {@code <=}, {@code
   * >}, {@code <}. Example: an element cosine.mean with the text {@code >= 0.99} (a fidelity bound)
   * and an element latency.b1.ratio with the text {@code <= 1.0} (no slower at batch 1), the
   * less-than sign escaped as an entity in the POM's XML. The metrics are the evaluator's
   * (cosine.mean, cosine.min, latency.bB.ratio, size.ratio, ...).
   *
   * @since 0.1.0
   */
  @Parameter private Map<String, String> gates;

  /**
   * The compressed model to evaluate; by default {@code outputDirectory/model.onnx}.
   *
   * @since 0.1.0
   */
  @Parameter(property = "compress.compressedModel")
  private File compressedModel;

  /**
   * Where {@code evaluation.json} (metrics, gates, failures, data identity, both models' SHA-256)
   * and {@code evaluation.txt} (the side-by-side table) are written.
   *
   * @since 0.1.0
   */
  @Parameter(
      property = "compress.reportDirectory",
      defaultValue = "${project.build.directory}/compress-evaluation",
      required = true)
  private File reportDirectory;

  /**
   * Measures again even when {@code manifest.json} already holds an evaluation of this compressed
   * model with the same evaluate block (including gates), as {@code compress} records when the
   * pipeline has one.
   *
   * @since 0.1.0
   */
  @Parameter(property = "compress.evaluate.force", defaultValue = "false")
  private boolean force;

  @Override
  protected String goal() {
    return "evaluate";
  }

  @Override
  public void execute() throws MojoExecutionException, MojoFailureException {
    if (skip) {
      getLog().info("evaluate: skipped (compress.evaluate.skip / compress.skip)");
      return;
    }
    long started = System.nanoTime();
    PipelineSource source = source();
    source.addGates(gates);
    if (!source.hasEvaluate()) {
      throw new MojoFailureException(
          "evaluate: nothing to measure: add <evaluate> (e.g. <evaluate><data>"
              + "builtin:heldout-sentences</data><gates>...</gates></evaluate>) or an evaluate"
              + " block to the <pipeline> file");
    }
    PipelineSpec spec = bind(source);
    Path compressed =
        compressedModel != null
            ? compressedModel.toPath().toAbsolutePath().normalize()
            : outputDir().resolve(PipelineRunner.MODEL_FILE);
    if (!Files.isRegularFile(compressed)) {
      throw new MojoFailureException(
          "evaluate: no compressed model at "
              + compressed
              + " (<compressedModel>/<outputDirectory>); run the compress goal first (it binds to"
              + " package, before verify)");
    }
    List<Evaluator> evaluators = services.evaluators();
    if (evaluators.isEmpty()) {
      throw new MojoExecutionException(
          "evaluate: no evaluator on the plugin's classpath (compress-evaluation is missing)");
    }
    Path reports = reportDirectory.toPath().toAbsolutePath().normalize();
    AtomicBoolean reused = new AtomicBoolean();
    EvaluationResult r =
        withPluginLoader(
            source,
            () -> {
              Path original = BuiltinModels.resolve(spec.model());
              Optional<EvaluationResult> recorded =
                  force ? Optional.empty() : RecordedEvaluation.find(spec, original, compressed);
              reused.set(recorded.isPresent());
              if (recorded.isPresent()) {
                getLog()
                    .info(
                        "evaluate: reusing the evaluation recorded in "
                            + compressed.resolveSibling(PipelineRunner.MANIFEST_FILE)
                            + " (same original and compressed model, same evaluate block and"
                            + " gates; -Dcompress.evaluate.force to measure again)");
              }
              EvaluationResult res =
                  recorded.isPresent()
                      ? recorded.get()
                      : evaluators
                          .getFirst()
                          .evaluate(
                              spec.evaluate().orElseThrow(), original, compressed, spec.model());
              writeReport(reports, spec, original, compressed, res);
              return res;
            });
    if (reused.get()
        && compressed.toString().equals(project.getContextValue(CompressMojo.TABLE_PRINTED))) {
      getLog().info("evaluate: the side-by-side table is above (printed by the compress goal)");
    } else {
      for (String line : r.table().split("\\R")) {
        getLog().info(line);
      }
    }
    getLog()
        .info(
            String.format(
                Locale.ROOT,
                "evaluate: report %s (%.1f s)",
                reports.resolve("evaluation.json"),
                (System.nanoTime() - started) / 1e9));
    List<String> failures = r.gateFailures() == null ? List.of() : r.gateFailures();
    if (!failures.isEmpty()) {
      throw new MojoFailureException(
          "evaluate: quality gate failed: "
              + String.join("; ", failures)
              + " (report: "
              + reports.resolve("evaluation.json")
              + ")");
    }
    int n = spec.evaluate().orElseThrow().gates().size();
    getLog().info("evaluate: " + (n == 0 ? "no gates set" : "all " + n + " gates passed"));
  }

  private static void writeReport(
      Path dir, PipelineSpec spec, Path original, Path compressed, EvaluationResult r)
      throws java.io.IOException {
    Files.createDirectories(dir);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", spec.model());
    m.put("original", file(original));
    m.put("compressed", file(compressed));
    m.put("evaluate", spec.toMap().get("evaluate"));
    m.put("metrics", r.metrics() == null ? Map.of() : new TreeMap<>(r.metrics()));
    m.put("data", r.dataIdentity() == null ? Map.of() : new TreeMap<>(r.dataIdentity()));
    List<String> failures = r.gateFailures() == null ? List.of() : r.gateFailures();
    m.put("gateFailures", failures);
    m.put("passed", failures.isEmpty());
    m.put("table", r.table());
    Files.writeString(
        dir.resolve("evaluation.json"),
        JSON.writeValueAsString(m) + System.lineSeparator(),
        StandardCharsets.UTF_8);
    Files.writeString(
        dir.resolve("evaluation.txt"),
        (r.table() == null ? "" : r.table()) + System.lineSeparator(),
        StandardCharsets.UTF_8);
  }

  private static Map<String, Object> file(Path p) throws java.io.IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", p.toString());
    m.put("bytes", Files.size(p));
    m.put("sha256", UpToDate.sha256(p));
    return m;
  }
}
