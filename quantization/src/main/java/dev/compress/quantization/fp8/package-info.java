/**
 * FP8 (E4M3FN, E5M2): exact encoding ({@link dev.compress.quantization.fp8.Fp8Format}), the {@code
 * fp8-quantization} pass, and the opset-19 upgrade FLOAT8 tensors need ({@link
 * dev.compress.quantization.fp8.OpsetUpgrade}).
 */
package dev.compress.quantization.fp8;
