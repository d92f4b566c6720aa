/**
 * The pruning passes, a package per algorithm: magnitude pruning, per layer, global or N:M ({@link
 * dev.compress.pruning.magnitude}); Wanda ({@link dev.compress.pruning.wanda}); SparseGPT ({@link
 * dev.compress.pruning.sparsegpt}); what they share, patterns, masks and sparsity reports ({@link
 * dev.compress.pruning.mask}). Structured pruning and sensitivity analysis to come.
 */
package dev.compress.pruning;
