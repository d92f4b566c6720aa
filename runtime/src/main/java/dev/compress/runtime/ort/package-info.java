/**
 * ONNX Runtime as the reference executor: {@link dev.compress.runtime.ort.OrtExecutor} runs a model
 * file (or a model graph written to a temporary file) in an ONNX Runtime session on the CPU.
 */
package dev.compress.runtime.ort;
