/**
 * Activation calibration observers: min-max, moving-average min-max, percentile, MSE and
 * KL-divergence (entropy) threshold search ({@link dev.compress.quantization.observer.Observers}),
 * with per-tensor, per-token and per-channel granularity where meaningful, and the 8-bit activation
 * grid they feed ({@link dev.compress.quantization.observer.ActivationQuantParams}).
 */
package dev.compress.quantization.observer;
