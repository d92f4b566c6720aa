/**
 * The quantization grid shared by the weight quantizers: the GPTQ reference's min-max grid ({@link
 * dev.compress.quantization.grid.MinMaxGrid}), granularities, and weights quantized on it ({@link
 * dev.compress.quantization.grid.QuantizedMatrix}, codes one per byte before a format packs them).
 */
package dev.compress.quantization.grid;
