/**
 * Optimizers written on NDArrays with explicit, checkpointable state (AdamW, SGD with momentum),
 * learning-rate schedules (linear warmup, then cosine or linear decay) and gradient clipping by
 * global norm. DJL's own optimizers keep their state private and its clip clamps each element to
 * one side, so these are written here.
 */
package dev.compress.training.optim;
