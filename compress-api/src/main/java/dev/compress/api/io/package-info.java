/**
 * Locating and reading model files: built-in models shipped as classpath resources, and (in
 * subpackages) the ONNX and safetensors readers and writers.
 */
package dev.compress.api.io;
