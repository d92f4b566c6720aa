/**
 * Executors behind one interface: the DJL PyTorch interpreter of the graph and the ONNX Runtime
 * reference; later the low-bit SIMD kernels.
 */
package dev.compress.runtime;
