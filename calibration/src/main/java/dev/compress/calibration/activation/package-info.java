/**
 * Activation capture and statistics: {@link dev.compress.calibration.activation.ActivationCapture}
 * runs calibration batches on the context's engine and records node inputs; {@link
 * dev.compress.calibration.activation.TokenRows} turns one captured activation into token rows with
 * padding left out (the one implementation of the {@code attention_mask} rule); {@link
 * dev.compress.calibration.activation.ActivationStats} keeps per-input-channel absmax, mean
 * magnitude, sum of squares and token counts.
 */
package dev.compress.calibration.activation;
