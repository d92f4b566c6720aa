/**
 * What the unstructured and semi-structured pruning passes share: the sparsity pattern ({@link
 * dev.compress.pruning.mask.SparsityPattern}, unstructured or N:M), exact mask selection from
 * scores ({@link dev.compress.pruning.mask.ScoreMasks}), the {@code (out, in)} view of a stored
 * weight ({@link dev.compress.pruning.mask.WeightView}) and the report lines every such pass gives
 * ({@link dev.compress.pruning.mask.SparsityReport}).
 */
package dev.compress.pruning.mask;
