/**
 * Block-sequential calibration: {@link dev.compress.api.layers.TransformerBlocks} groups linear
 * layers into blocks by node name; {@link
 * dev.compress.calibration.blocks.BlockSequentialCalibrator} calibrates them in order, each on the
 * cached outputs of the already-compressed blocks before it, in time linear in depth.
 */
package dev.compress.calibration.blocks;
