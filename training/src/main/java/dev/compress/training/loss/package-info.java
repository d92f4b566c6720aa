/**
 * Generic training losses on NDArrays (mean squared error, cosine distance, temperature-scaled KL
 * divergence, cross-entropy), each a scalar a {@link dev.compress.training.GradientRecording} can
 * back-propagate. Task-specific losses (distillation) build on these in their own modules.
 */
package dev.compress.training.loss;
