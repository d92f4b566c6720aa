/**
 * Calibration shared by the calibrated quantizers: transformer blocks found from node names ({@link
 * dev.compress.quantization.calib.TransformerBlocks}), block-sequential activation capture on the
 * DJL executor ({@link dev.compress.quantization.calib.BlockSequentialCalibrator}) and running-mean
 * layer Hessians ({@link dev.compress.quantization.calib.HessianAccumulator}).
 */
package dev.compress.quantization.calib;
