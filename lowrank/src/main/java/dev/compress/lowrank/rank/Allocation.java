package dev.compress.lowrank.rank;

/**
 * How the ranks of the factorized layers are chosen. Every ratio is the fraction of parameters
 * <b>removed</b> from the selected linear layers (SVD-LLM's convention), never the fraction kept.
 */
public enum Allocation {
  /**
   * The same keep ratio for every layer (SVD-LLM v1): {@code k = floor(m n (1 - parametersRemoved)
   * / (m + n))}.
   */
  UNIFORM,
  /**
   * One parameter budget over all selected layers, {@code (1 - parametersRemoved) * sum m n}, spent
   * where each layer's truncation loss is largest (SVD-LLM v2's idea): minimizes the sum of the
   * layers' relative truncation losses under the budget.
   */
  GLOBAL,
  /**
   * Per layer the smallest rank whose singular values keep {@code energy} of the squared spectrum;
   * a layer whose rank would not remove parameters is left dense.
   */
  ENERGY,
  /** The same rank {@code rank} for every layer. */
  FIXED
}
