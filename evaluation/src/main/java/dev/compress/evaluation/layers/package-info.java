/**
 * Per-layer error of a compressed model against its original: output activations of each linear
 * layer where both graphs produce them, else weight-space relative error.
 */
package dev.compress.evaluation.layers;
