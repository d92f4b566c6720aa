/**
 * Locating and reading model files: built-in models shipped as classpath resources, and (in
 * subpackages) the ONNX and safetensors readers and writers; plus the one reader of IDX data files
 * ({@link dev.compress.api.io.IdxFile}) and of class-label files ({@link
 * dev.compress.api.io.ClassLabels}) that calibration, training and evaluation share.
 */
package dev.compress.api.io;
