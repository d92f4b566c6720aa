/**
 * SparseGPT ({@code sparsegpt}, Frantar and Alistarh 2023, arXiv:2301.00774): one-shot pruning with
 * GPTQ's second-order error compensation ({@link
 * dev.compress.calibration.hessian.SecondOrderSweep}), unstructured or N:M.
 */
package dev.compress.pruning.sparsegpt;
