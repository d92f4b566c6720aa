/**
 * The compressed-tensors {@code pack-quantized} checkpoint format: {@link
 * dev.compress.quantization.format.compressedtensors.PackQuantizedLayout} for one layer, {@link
 * dev.compress.quantization.format.compressedtensors.CompressedTensorsCheckpoint} for the
 * safetensors file plus the {@code quantization_config} of {@code config.json}.
 */
package dev.compress.quantization.format.compressedtensors;
