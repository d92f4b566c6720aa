/**
 * The {@code qat} pass: quantization-aware training on the teacher-student trainer, with the
 * straight-through estimator and LSQ step sizes, exported to the same integer formats as the
 * post-training passes.
 */
package dev.compress.quantization.qat;
