/**
 * The {@code distill} pass: trains the pipeline's current model on the teacher's outputs and hidden
 * states over the calibration samples, and writes the trained weights back.
 */
package dev.compress.distillation.distill;
