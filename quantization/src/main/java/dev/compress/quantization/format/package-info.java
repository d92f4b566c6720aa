/**
 * Storage formats of quantized weights that runtimes execute: ONNX {@code DequantizeLinear} for
 * 8-bit per-channel weights and ONNX Runtime's {@code com.microsoft::MatMulNBits} for 4-bit and
 * 8-bit blockwise weights ({@link dev.compress.quantization.format.MatMulNBitsLayout}), written
 * into a model by {@link dev.compress.quantization.format.QuantizedModelWriter}.
 */
package dev.compress.quantization.format;
