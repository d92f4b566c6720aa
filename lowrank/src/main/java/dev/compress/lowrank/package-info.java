/**
 * Low-rank factorization of linear layers, shared by the methods in the sub-packages ({@code svd},
 * {@code asvd}, {@code svdllm}) and the rank allocation in {@code rank}: the {@link
 * dev.compress.lowrank.Factorizer} steps (select, check, calibrate, decompose, allocate, then
 * write), the {@link dev.compress.lowrank.Decomposition} of one layer and the {@link
 * dev.compress.lowrank.FactorWriter} that replaces a weight by two MatMuls. A layer is only
 * factorized at a rank {@code k < m n / (m + n)}, where the factors hold fewer parameters. The
 * {@code lora} sub-package holds the adapters (LoRA, QLoRA's NF4 base) that recover what a
 * factorization loses.
 */
package dev.compress.lowrank;
