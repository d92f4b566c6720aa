/**
 * Calibration shared by the algorithm modules (quantization, pruning, low-rank): activation capture
 * and statistics ({@code activation}), layer Hessians ({@code hessian}) and block-sequential
 * calibration with cached block inputs ({@code blocks}). Models run only through the api's executor
 * SPI ({@link dev.compress.api.pass.PassContext#executor}).
 */
package dev.compress.calibration;
