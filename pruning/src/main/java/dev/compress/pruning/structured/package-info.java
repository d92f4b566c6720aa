/**
 * Structured pruning ({@code structured-pruning}): dependency groups on the ONNX graph (DepGraph,
 * Fang et al. 2023) through which whole attention heads and FFN neurons are removed physically,
 * unit importance (weight norm, Wanda-style activation, FLAP fluctuation), the retraining-free
 * budget search and least-squares rescaling of Kwon et al. 2022, and FLAP's bias compensation.
 */
package dev.compress.pruning.structured;
