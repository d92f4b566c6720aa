/**
 * The GPTQ checkpoint format (AutoGPTQ / GPTQModel v1): {@link
 * dev.compress.quantization.format.gptq.GptqLayout} for one layer's qweight, qzeros, scales and
 * g_idx, and {@link dev.compress.quantization.format.gptq.GptqCheckpoint} for the safetensors file
 * plus {@code quantize_config.json}.
 */
package dev.compress.quantization.format.gptq;
