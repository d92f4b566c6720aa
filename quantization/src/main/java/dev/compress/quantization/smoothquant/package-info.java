/**
 * SmoothQuant ({@code smoothquant}): per-channel scales that move activation outliers from a
 * normalization's output into the weights of the linear layers it feeds, leaving the float function
 * unchanged, before W8A8 quantization.
 */
package dev.compress.quantization.smoothquant;
