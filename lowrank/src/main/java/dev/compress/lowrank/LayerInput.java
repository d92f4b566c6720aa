package dev.compress.lowrank;

import dev.compress.api.layers.LinearLayer;
import dev.compress.linalg.Matrix;

/**
 * One selected layer as a factorization method sees it.
 *
 * @param layer the layer
 * @param w its weight in the {@code out x in} view, {@code (m, n)}, f64
 * @param meanAbs {@code mean |x_j|} per input feature over the calibration tokens, or null when the
 *     method did not ask for it
 * @param gram {@code X^T X (n, n)} over the calibration tokens (X's rows are tokens), or null when
 *     the method did not ask for it
 * @param seed for the randomized SVD, derived from the pipeline seed and the layer
 */
public record LayerInput(LinearLayer layer, Matrix w, double[] meanAbs, Matrix gram, long seed) {}
