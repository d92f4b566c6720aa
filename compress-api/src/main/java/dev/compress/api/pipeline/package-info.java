/**
 * Pipelines: the spec, the runner and the evaluation SPI.
 *
 * <ul>
 *   <li>{@link dev.compress.api.pipeline.PipelineSpec}: {@code apiVersion}, {@code kind}, {@code
 *       model}, {@code calibration}, ordered {@code passes}, {@code evaluate}, {@code output},
 *       {@code seed}; read from YAML with strict binding (unknown keys, wrong types and
 *       out-of-range values all reported at once, each naming its key path), or built in Java with
 *       the same content. YAML aliases and merge keys are resolved with a bound on the expansion;
 *       {@code KEY=VALUE} overrides ({@link dev.compress.api.pipeline.PipelineSpec#withOverrides})
 *       are applied to the tree before binding. {@link
 *       dev.compress.api.pipeline.PipelineSpec#toYaml()} gives the fully resolved spec. {@link
 *       dev.compress.api.pipeline.DidYouMean} is the near-miss suggestion of every message.
 *   <li>{@link dev.compress.api.pipeline.PassRegistry}: pass types found through {@link
 *       java.util.ServiceLoader}.
 *   <li>{@link dev.compress.api.pipeline.PipelineRunner}: validates a spec against its model, runs
 *       the passes in order and writes {@code model.onnx}, {@code manifest.json} and {@code
 *       report.json} atomically; reruns a manifest byte-identically ({@code readManifest}, then
 *       {@code rerun}). {@link dev.compress.api.pipeline.PassValidation} lets a pass check its
 *       layers before anything runs.
 *   <li>{@link dev.compress.api.pipeline.Evaluator}: the evaluation SPI (implemented by the
 *       evaluation module), which also checks an evaluate block before anything runs; a failed gate
 *       is a {@link dev.compress.api.pipeline.GateFailedException}.
 *   <li>{@link dev.compress.api.pipeline.ConsoleProgress}: a progress bar on a terminal, plain
 *       lines elsewhere.
 * </ul>
 */
package dev.compress.api.pipeline;
