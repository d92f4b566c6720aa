/**
 * Batch sources for the training loop: examples held as host tensors and stacked into batches on
 * request (padding sequences to the longest in the batch), built from calibration batches
 * (tokenized sentences, images, tensor files), from whole tensors, or from labelled IDX image
 * files. Keep training examples separate from held-out evaluation data.
 */
package dev.compress.training.data;
