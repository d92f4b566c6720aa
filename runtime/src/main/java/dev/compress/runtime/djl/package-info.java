/**
 * The DJL interpreter: {@link dev.compress.runtime.djl.DjlExecutor} runs a model graph node by node
 * on DJL NDArrays with the PyTorch engine (CPU, or CUDA when DJL finds a GPU). Operator kernels are
 * package-private; {@link dev.compress.runtime.djl.DjlExecutor#supportedOps()} lists them.
 */
package dev.compress.runtime.djl;
