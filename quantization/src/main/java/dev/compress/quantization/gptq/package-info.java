/**
 * GPTQ (Frantar et al. 2022) weight quantization ({@code gptq}): {@link
 * dev.compress.quantization.gptq.GptqConfig}, the per-layer algorithm {@link
 * dev.compress.quantization.gptq.GptqQuantizer}, the block-sequential {@link
 * dev.compress.quantization.gptq.GptqPass} and its provider.
 */
package dev.compress.quantization.gptq;
