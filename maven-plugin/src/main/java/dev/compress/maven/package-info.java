/**
 * The Maven plugin: goals {@code compress} ({@link dev.compress.maven.CompressMojo}, default phase
 * {@code package}) and {@code evaluate} ({@link dev.compress.maven.EvaluateMojo}, a quality gate,
 * default phase {@code verify}).
 *
 * <p>A thin front end: the POM's configuration (a pipeline YAML file and/or inline elements)
 * becomes the same tree a pipeline YAML parses to and is bound by the pipeline's own strict binder;
 * the goals then call the same {@link dev.compress.api.pipeline.PipelineRunner} and {@link
 * dev.compress.api.pipeline.Evaluator} as the CLI, with services found on the plugin's class realm.
 * Configuration problems are {@code MojoFailureException}s naming the POM element; failures while
 * running are {@code MojoExecutionException}s.
 */
package dev.compress.maven;
