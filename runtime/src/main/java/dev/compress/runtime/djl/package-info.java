/**
 * The DJL interpreter on the PyTorch engine (CPU, or CUDA when DJL finds a GPU). A graph is
 * compiled once into a {@code CompiledProgram} (steps, value slots, liveness; no native resources),
 * which two front ends run: {@link dev.compress.runtime.djl.DjlExecutor}, the inference executor
 * (calibration capture, evaluation, quantized kernels), and {@link
 * dev.compress.runtime.djl.DjlTrainableModel}, the training SPI's model (chosen initializers as
 * parameters with gradients, no kernel fusion, differentiability checked per node). Operator
 * kernels are package-private; {@link dev.compress.runtime.djl.DjlExecutor#supportedOps()} lists
 * them, {@code Differentiable} those the trainable model back-propagates through.
 */
package dev.compress.runtime.djl;
