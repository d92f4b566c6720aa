/**
 * Pipelines: the spec, the runner and the evaluation SPI.
 *
 * <ul>
 *   <li>{@link dev.compress.api.pipeline.PipelineSpec}: {@code apiVersion}, {@code kind}, {@code
 *       model}, {@code calibration}, ordered {@code passes}, {@code evaluate}, {@code output},
 *       {@code seed}; read from YAML with strict binding (unknown keys, wrong types and
 *       out-of-range values all reported at once, each naming its key path), or built in Java with
 *       the same content. {@link dev.compress.api.pipeline.PipelineSpec#toYaml()} gives the fully
 *       resolved spec.
 *   <li>{@link dev.compress.api.pipeline.PassRegistry}: pass types found through {@link
 *       java.util.ServiceLoader}.
 *   <li>{@link dev.compress.api.pipeline.PipelineRunner}: validates a spec against its model, runs
 *       the passes in order and writes {@code model.onnx}, {@code manifest.json} and {@code
 *       report.json} atomically; reruns a manifest byte-identically. {@link
 *       dev.compress.api.pipeline.PassValidation} lets a pass check its layers before anything
 *       runs.
 *   <li>{@link dev.compress.api.pipeline.Evaluator}: the evaluation SPI (implemented by the
 *       evaluation module); a failed gate is a {@link
 *       dev.compress.api.pipeline.GateFailedException}.
 *   <li>{@link dev.compress.api.pipeline.ConsoleProgress}: a progress bar on a terminal, plain
 *       lines elsewhere.
 * </ul>
 */
package dev.compress.api.pipeline;
