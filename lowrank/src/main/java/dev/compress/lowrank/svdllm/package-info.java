/**
 * SVD-LLM, truncation-aware whitened SVD factorization: {@link
 * dev.compress.lowrank.svdllm.SvdLlmPass} and its {@link dev.compress.lowrank.svdllm.Whitening}.
 */
package dev.compress.lowrank.svdllm;
