/**
 * The pruning passes, a package per algorithm: unstructured magnitude pruning ({@link
 * dev.compress.pruning.magnitude}) now; N:M, structured (physically smaller layers), Wanda,
 * SparseGPT and sensitivity analysis to come.
 */
package dev.compress.pruning;
