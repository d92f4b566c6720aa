/**
 * Side-by-side measurement of model variants (size, memory, task metrics, latency sweep, per-layer
 * error), the code behind {@code compress bench}, {@code compress eval} and the pipeline's {@code
 * evaluate} block, and its text table.
 */
package dev.compress.evaluation.bench;
