/**
 * Side-by-side measurement of an original and compressed models, in the same process. {@link
 * dev.compress.evaluation.SideBySideEvaluator} implements the pipeline's {@code evaluate} block
 * (registered as a {@link dev.compress.api.pipeline.Evaluator} service) on top of {@code
 * bench.Bench}, which also backs {@code compress eval} and {@code compress bench}. Subpackages:
 * {@code bench} (the measurement and its text table), {@code task} (accuracy and fidelity tasks),
 * {@code latency} (interleaved timing, percentiles with bootstrap intervals), {@code memory} (heap
 * and resident memory), {@code engine} (ONNX Runtime, DJL on CPU/GPU), {@code layers} (per-layer
 * error), {@code report} (JSON and self-contained HTML), {@code size} (bytes on disk), {@code gate}
 * (the block's gates), {@code sensitivity} (per-unit sensitivity analysis and suggested plans).
 */
package dev.compress.evaluation;
