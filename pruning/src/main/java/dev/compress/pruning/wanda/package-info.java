/**
 * Wanda ({@code wanda}, Sun et al. 2023, arXiv:2306.11695): pruning by weight magnitude times input
 * activation norm, compared within each output row, unstructured or N:M, no weight update.
 */
package dev.compress.pruning.wanda;
