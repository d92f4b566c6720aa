package dev.compress.maven;

import dev.compress.api.pipeline.ConsoleProgress;
import dev.compress.api.pipeline.GateFailedException;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.RunOptions;
import java.io.File;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.Component;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;
import org.apache.maven.project.MavenProjectHelper;

/**
 * Compresses a model in the build: runs the pipeline (a YAML file and/or inline configuration) with
 * the same runner as {@code compress run}, writes {@code model.onnx}, {@code manifest.json} and
 * {@code report.json} to {@code outputDirectory}, and attaches the compressed model to the project
 * (type {@code onnx}, classifier {@code compressed} by default) so {@code install} and {@code
 * deploy} carry it.
 *
 * <p>Incremental: when {@code outputDirectory/manifest.json} records the same inputs (input model
 * SHA-256, fully resolved pipeline, calibration identity, tool version) and the outputs it lists
 * are intact, nothing is recompressed; the existing model is attached again.
 *
 * <p>Bound by default to {@code package}: the model is a build product like the jar, made after
 * tests pass and before {@code verify} (where {@code evaluate} gates it) and {@code install}.
 *
 * @since 0.1.0
 */
@Mojo(name = "compress", defaultPhase = LifecyclePhase.PACKAGE, threadSafe = true)
public class CompressMojo extends AbstractPipelineMojo {
  /**
   * Skips the goal (nothing is compressed or attached).
   *
   * @since 0.1.0
   */
  @Parameter(property = "compress.skip", defaultValue = "false")
  private boolean skip;

  /**
   * The classifier of the attached compressed model.
   *
   * @since 0.1.0
   */
  @Parameter(property = "compress.classifier", defaultValue = "compressed", required = true)
  private String classifier;

  /**
   * Whether the compressed model is attached to the project as an artifact.
   *
   * @since 0.1.0
   */
  @Parameter(property = "compress.attach", defaultValue = "true")
  private boolean attach;

  /**
   * Whether {@code manifest.json} is attached too (type {@code json}, classifier {@code
   * CLASSIFIER-manifest}), so the provenance travels with the model.
   *
   * @since 0.1.0
   */
  @Parameter(property = "compress.attachManifest", defaultValue = "true")
  private boolean attachManifest;

  /**
   * Recompresses even when the manifest shows the same inputs.
   *
   * @since 0.1.0
   */
  @Parameter(property = "compress.force", defaultValue = "false")
  private boolean force;

  @Component private MavenProjectHelper projectHelper;

  /**
   * Project context key: the compressed model whose evaluation table this build has printed (set by
   * a compress run with an evaluate block).
   */
  static final String TABLE_PRINTED = "dev.compress.maven.tablePrinted";

  @Override
  protected String goal() {
    return "compress";
  }

  @Override
  public void execute() throws MojoExecutionException, MojoFailureException {
    if (skip) {
      getLog().info("compress: skipped (compress.skip)");
      return;
    }
    long started = System.nanoTime();
    PipelineSource source = source();
    PipelineSpec spec = bind(source);
    Path out = outputDir();
    PipelineRunner runner = services.runner();
    boolean ran =
        withPluginLoader(
            source,
            () -> {
              if (!force) {
                long checkStarted = System.nanoTime();
                UpToDate.Verdict v = UpToDate.check(spec, out, services.calibrationLoaders());
                getLog()
                    .debug(
                        String.format(
                            Locale.ROOT,
                            "compress: configuration read in %.2f s, up-to-date check in %.2f s",
                            (checkStarted - started) / 1e9,
                            (System.nanoTime() - checkStarted) / 1e9));
                if (v.upToDate()) {
                  getLog()
                      .info(
                          "compress: "
                              + out
                              + " is up to date ("
                              + v.reason()
                              + "); not recompressing");
                  failOnGates(v.gateFailures(), out);
                  return false;
                }
                getLog().info("compress: running the pipeline: " + v.reason());
              }
              try (PrintWriter w = new PrintWriter(new LogWriter(getLog()::info));
                  PrintWriter warn = new PrintWriter(new LogWriter(getLog()::warn))) {
                RunOptions options =
                    RunOptions.defaults()
                        .withOverwrite(true)
                        .withOut(w)
                        .withWarnings(warn)
                        .withProgress(ConsoleProgress.plain(w));
                if (runner.run(spec, options).evaluation().isPresent()) {
                  // The runner printed the side-by-side table: evaluate, reusing this evaluation
                  // later in the build, does not print it again.
                  project.setContextValue(
                      TABLE_PRINTED, out.resolve(PipelineRunner.MODEL_FILE).toString());
                }
              } catch (GateFailedException e) {
                failOnGates(e.failures(), out);
              }
              return true;
            });
    Path modelFile = out.resolve(PipelineRunner.MODEL_FILE);
    if (attach) {
      projectHelper.attachArtifact(project, "onnx", classifier, modelFile.toFile());
      if (attachManifest) {
        File manifest = out.resolve(PipelineRunner.MANIFEST_FILE).toFile();
        projectHelper.attachArtifact(project, "json", classifier + "-manifest", manifest);
      }
      getLog()
          .info("compress: attached " + modelFile + " (type onnx, classifier " + classifier + ")");
    }
    getLog()
        .info(
            String.format(
                Locale.ROOT,
                "compress: %s in %.1f s",
                ran ? "compressed" : "up-to-date check",
                (System.nanoTime() - started) / 1e9));
  }

  private static void failOnGates(List<String> failures, Path out) throws MojoFailureException {
    if (!failures.isEmpty()) {
      throw new MojoFailureException(
          "compress: evaluation gate failed: "
              + String.join("; ", failures)
              + " (report: "
              + out.resolve(PipelineRunner.REPORT_FILE)
              + ")");
    }
  }
}
