/**
 * Straight-through fake quantization (Bengio, Leonard, Courville 2013; Jacob et al. 2018) for
 * quantization-aware training: the forward sees quantized-then-dequantized values, the backward
 * passes the gradient through unchanged.
 */
package dev.compress.training.quant;
