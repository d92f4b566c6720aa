/**
 * Will hold the low-rank passes: truncated SVD, activation-aware and whitened SVD (SVD-LLM), and
 * LoRA adapters.
 */
package dev.compress.lowrank;
