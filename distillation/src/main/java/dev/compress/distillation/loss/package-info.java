/**
 * Teacher-student losses (soft targets, hidden states, pooled sentence embeddings) on engine
 * arrays.
 */
package dev.compress.distillation.loss;
