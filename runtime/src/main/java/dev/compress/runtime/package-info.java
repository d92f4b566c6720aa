/**
 * Executors behind one interface: {@link dev.compress.api.exec.Executor} runs a model graph on api
 * {@link dev.compress.api.tensor.Tensor}s and optionally records the inputs of chosen nodes for
 * calibration. Engines live in subpackages: {@code djl} (the PyTorch interpreter of the graph, CPU
 * or GPU), {@code ort} (ONNX Runtime, the reference), and {@code text} holds the tokenizer and
 * sentence-embedding pooling used to feed text models, and {@code kernels} the low-bit SIMD kernels
 * (JDK Vector API) that execute quantized linear layers.
 */
package dev.compress.runtime;
