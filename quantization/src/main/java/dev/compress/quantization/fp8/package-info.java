/**
 * FP8 (E4M3FN, E5M2): exact encoding ({@link dev.compress.quantization.fp8.Fp8Format}), the {@code
 * fp8-quantization} pass, which raises the model to the opset 19 FLOAT8 tensors need with the
 * shared {@link dev.compress.api.graph.OpsetUpgrade}.
 */
package dev.compress.quantization.fp8;
