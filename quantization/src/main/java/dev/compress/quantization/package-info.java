/**
 * The quantization passes, a package per algorithm, and what they share: the quantization grid
 * ({@link dev.compress.quantization.grid}), the storage formats runtimes execute ({@link
 * dev.compress.quantization.format}), and round-to-nearest ({@link dev.compress.quantization.rtn})
 * now; static/dynamic PTQ, SmoothQuant, GPTQ, AWQ, FP8 and QAT to come.
 */
package dev.compress.quantization;
