/**
 * Will hold the pruning passes: unstructured magnitude, N:M, structured (physically smaller
 * layers), Wanda, SparseGPT and sensitivity analysis, a package per algorithm.
 */
package dev.compress.pruning;
