package dev.compress.maven;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.OutOfMemoryException;
import dev.compress.api.pipeline.PipelineSpec;
import java.io.File;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecution;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.Parameter;
import org.apache.maven.project.MavenProject;
import org.codehaus.plexus.configuration.PlexusConfiguration;

/**
 * What both goals share: where the pipeline comes from (a YAML file and/or inline elements) and
 * where its output lives. Put this configuration at the plugin level (outside the executions) so
 * {@code compress} and {@code evaluate} see the same pipeline.
 *
 * <p>The parameter docs below become the plugin descriptor, which {@code mvn help:describe} reads
 * as HTML: element names are written bare ({@code calibration}), never in angle brackets, which a
 * reader of HTML drops as unknown tags ({@code PluginDescriptorTest} holds this).
 */
abstract class AbstractPipelineMojo extends AbstractMojo {
  /** The project being built. */
  @Parameter(defaultValue = "${project}", readonly = true, required = true)
  protected MavenProject project;

  /**
   * A pipeline YAML file (the format of {@code compress run}, see {@code sample-configs/}),
   * relative to the project's base directory. The inline elements model, seed, device, calibration,
   * passes and evaluate, given besides it, replace the file's key of the same name. Its {@code
   * output} block is ignored: output goes to {@link #outputDirectory}.
   *
   * @since 0.1.0
   */
  @Parameter(property = "compress.pipeline")
  protected File pipeline;

  /**
   * The model to compress: a path to an {@code .onnx} file (relative to the project's base
   * directory) or {@code builtin:NAME} (e.g. {@code builtin:all-minilm-l6-v2}).
   *
   * @since 0.1.0
   */
  @Parameter(property = "compress.model")
  protected String model;

  /**
   * The seed of every random choice (default 0).
   *
   * @since 0.1.0
   */
  @Parameter(property = "compress.seed")
  protected Long seed;

  /**
   * Where the passes run the model (calibration, GPTQ/AWQ, pruning, low-rank, training): cpu
   * (default), gpu (the build fails when DJL finds no GPU) or auto (the GPU when DJL finds one,
   * else the CPU; the manifest records which). The evaluation's device is the evaluate block's.
   *
   * @since 0.1.0
   */
  @Parameter(property = "compress.device")
  protected String device;

  /**
   * The calibration block: one child element per key of the YAML's {@code calibration} (kind,
   * source, samples, sequenceLength, batchSize, seed, shuffle) and tokenizer (text) or labels
   * (images). A relative source or labels file is relative to the project's base directory.
   *
   * @since 0.1.0
   */
  @Parameter protected PlexusConfiguration calibration;

  /**
   * The passes, in order: one child element per pass (conventionally named pass), holding a type
   * element (a registered pass type, e.g. {@code rtn-quantization}), optional targets and ignore
   * elements (lists of target elements, each a layer name or {@code re:REGEX}) and the pass's own
   * parameters as elements of their name (an element bits with the text 8), exactly as in the YAML.
   *
   * @since 0.1.0
   */
  @Parameter protected PlexusConfiguration passes;

  /**
   * The evaluate block: one child element per key of the YAML's {@code evaluate} (task, data,
   * samples, latencyBatchSizes, sequenceLength, iterations, gates, and whatever else the evaluator
   * accepts). With it, the compress goal evaluates the result like {@code compress run} does, and
   * the evaluate goal knows what to measure.
   *
   * @since 0.1.0
   */
  @Parameter protected PlexusConfiguration evaluate;

  /**
   * Where the compressed model ({@code model.onnx}), {@code manifest.json} and {@code report.json}
   * are written; replaced as a whole when the pipeline runs.
   *
   * @since 0.1.0
   */
  @Parameter(
      property = "compress.outputDirectory",
      defaultValue = "${project.build.directory}/compress",
      required = true)
  protected File outputDirectory;

  /** This goal's execution: its plugin's parameters and its id, to find its POM configuration. */
  @Parameter(defaultValue = "${mojoExecution}", readonly = true, required = true)
  protected MojoExecution mojoExecution;

  /** The services on the plugin's class realm. */
  protected final PluginServices services = new PluginServices();

  /** The goal name, for messages. */
  protected abstract String goal();

  /**
   * The pipeline source: file and inline elements, not yet bound.
   *
   * @throws MojoFailureException for an element of the configuration that is no parameter (a
   *     misspelling Maven itself only warns about), or a missing or unreadable pipeline file
   */
  protected PipelineSource source() throws MojoFailureException {
    if (mojoExecution != null) {
      var problem =
          ConfigurationElements.problem(
              goal(),
              mojoExecution.getArtifactId(),
              ConfigurationElements.of(project, mojoExecution),
              ConfigurationElements.parameters(mojoExecution));
      if (problem.isPresent()) {
        throw new MojoFailureException(problem.get());
      }
    }
    return PipelineSource.of(
        goal(),
        project.getBasedir().toPath(),
        pipeline == null ? null : pipeline.toPath(),
        new PipelineSource.Inline(
            model,
            seed,
            device,
            calibration == null ? null : PomElement.from(calibration),
            passes == null ? null : PomElement.from(passes),
            evaluate == null ? null : PomElement.from(evaluate)),
        services.registry());
  }

  /** The output directory as an absolute path. */
  protected Path outputDir() {
    return outputDirectory.toPath().toAbsolutePath().normalize();
  }

  /** Binds a source to a spec writing to {@link #outputDirectory}. */
  protected PipelineSpec bind(PipelineSource s) throws MojoFailureException {
    return s.bind(outputDir(), services.registry());
  }

  /**
   * Runs {@code work} with the plugin's class realm as the thread's context class loader (native
   * libraries and services look there), mapping failures: a {@link ConfigException} (a problem with
   * the configuration found only when the model or data is read) to a {@link MojoFailureException}
   * naming the element, anything else to a {@link MojoExecutionException}.
   */
  protected <T> T withPluginLoader(PipelineSource source, Callable<T> work)
      throws MojoExecutionException, MojoFailureException {
    LibraryLogs.quiet(); // before the engines load: DJL's INFO lines and CUDA probe warnings
    Thread t = Thread.currentThread();
    ClassLoader old = t.getContextClassLoader();
    t.setContextClassLoader(services.loader());
    try {
      return work.call();
    } catch (MojoFailureException | MojoExecutionException e) {
      throw e;
    } catch (ConfigException e) {
      throw new MojoFailureException(source.describe(e.problems()), e);
    } catch (OutOfMemoryException e) {
      // Maven's own JVM runs the pipeline: its heap comes from MAVEN_OPTS (or .mvn/jvm.config).
      throw new MojoExecutionException(
          goal()
              + ": "
              + e.getMessage()
              + ". HINT: give Maven more heap, e.g. MAVEN_OPTS=-Xmx"
              + e.suggestedMaxHeap()
              + " (or -Xmx in .mvn/jvm.config)",
          e);
    } catch (CompressionException e) {
      throw new MojoExecutionException(goal() + ": " + e.getMessage(), e);
    } catch (Exception e) {
      throw new MojoExecutionException(goal() + ": " + e, e);
    } finally {
      t.setContextClassLoader(old);
    }
  }
}
