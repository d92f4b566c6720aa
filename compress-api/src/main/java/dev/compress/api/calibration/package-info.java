/** Calibration data for passes that observe activations, and its identity for the manifest. */
package dev.compress.api.calibration;
