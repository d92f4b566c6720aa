/**
 * Second-order statistics of layer inputs: {@link
 * dev.compress.calibration.hessian.HessianAccumulator} keeps the running-mean layer Hessian {@code
 * 2/n X^T X} of the GPTQ / SparseGPT objective.
 */
package dev.compress.calibration.hessian;
