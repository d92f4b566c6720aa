/**
 * The engines models are measured on (ONNX Runtime, the DJL PyTorch interpreter on CPU or GPU) and
 * how an executor is opened for a model file.
 */
package dev.compress.evaluation.engine;
