/**
 * Pipeline output formats the quantization module registers ({@link
 * dev.compress.api.pipeline.OutputFormat} through {@code ServiceLoader}): {@link
 * dev.compress.quantization.output.CompressedTensorsOutput} ({@code compressed-tensors}).
 */
package dev.compress.quantization.output;
