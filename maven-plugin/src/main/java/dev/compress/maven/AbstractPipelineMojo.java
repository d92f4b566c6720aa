package dev.compress.maven;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.pipeline.PipelineSpec;
import java.io.File;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.Parameter;
import org.apache.maven.project.MavenProject;
import org.codehaus.plexus.configuration.PlexusConfiguration;

/**
 * What both goals share: where the pipeline comes from (a YAML file and/or inline elements) and
 * where its output lives. Put this configuration at the plugin level (outside {@code <executions>})
 * so {@code compress} and {@code evaluate} see the same pipeline.
 */
abstract class AbstractPipelineMojo extends AbstractMojo {
  /** The project being built. */
  @Parameter(defaultValue = "${project}", readonly = true, required = true)
  protected MavenProject project;

  /**
   * A pipeline YAML file (the format of {@code compress run}, see {@code sample-configs/}),
   * relative to the project's base directory. Inline elements given besides it ({@code <model>},
   * {@code <seed>}, {@code <calibration>}, {@code <passes>}, {@code <evaluate>}) replace the file's
   * key of the same name. Its {@code output} block is ignored: output goes to {@link
   * #outputDirectory}.
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
   * The calibration block, with the keys of the YAML's {@code calibration} ({@code <kind>}, {@code
   * <source>}, {@code <samples>}, {@code <sequenceLength>}, {@code <batchSize>}, {@code <seed>},
   * {@code <shuffle>}). A relative {@code source} is relative to the project's base directory.
   *
   * @since 0.1.0
   */
  @Parameter protected PlexusConfiguration calibration;

  /**
   * The passes, in order: one child element (conventionally {@code <pass>}) per pass, holding
   * {@code <type>} (a registered pass type, e.g. {@code rtn-quantization}), optional {@code
   * <targets>}/{@code <ignore>} (lists of {@code <target>} layer names or {@code re:REGEX}) and the
   * pass's own parameters by name ({@code <bits>8</bits>}), exactly as in the YAML.
   *
   * @since 0.1.0
   */
  @Parameter protected PlexusConfiguration passes;

  /**
   * The evaluate block, with the keys of the YAML's {@code evaluate} ({@code <task>}, {@code
   * <data>}, {@code <samples>}, {@code <latencyBatchSizes>}, {@code <sequenceLength>}, {@code
   * <iterations>}, {@code <gates>}, and whatever the evaluator accepts). With it, {@code compress}
   * evaluates the result like {@code compress run} does, and {@code evaluate} knows what to
   * measure.
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

  /** The services on the plugin's class realm. */
  protected final PluginServices services = new PluginServices();

  /** The goal name, for messages. */
  protected abstract String goal();

  /** The pipeline source: file and inline elements, not yet bound. */
  protected PipelineSource source() throws MojoFailureException {
    return PipelineSource.of(
        goal(),
        project.getBasedir().toPath(),
        pipeline == null ? null : pipeline.toPath(),
        new PipelineSource.Inline(
            model,
            seed,
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
    } catch (CompressionException e) {
      throw new MojoExecutionException(goal() + ": " + e.getMessage(), e);
    } catch (Exception e) {
      throw new MojoExecutionException(goal() + ": " + e, e);
    } finally {
      t.setContextClassLoader(old);
    }
  }
}
