/**
 * Side-by-side measurement of an original and a compressed model, in the same process. {@link
 * dev.compress.evaluation.EmbeddingFidelityEvaluator} implements the {@code evaluate} block's
 * {@code embedding-fidelity} task (registered as a {@link dev.compress.api.pipeline.Evaluator}
 * service): embedding cosine on held-out sentences, ONNX Runtime latency with the two models
 * interleaved, and bytes on disk, checked against the block's gates and printed as one table.
 * Subpackages hold the pieces: {@code gate} (parsing and checking {@code evaluate.gates}), {@code
 * latency} (interleaved timing and its statistics), {@code size} (bytes on disk of an ONNX model
 * with its external data).
 */
package dev.compress.evaluation;
