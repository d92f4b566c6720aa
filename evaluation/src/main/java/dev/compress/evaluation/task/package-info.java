/**
 * Accuracy and fidelity tasks run on several model variants, each metric tied to the identity of
 * the data it used: embedding fidelity, opinion-lexicon sentiment, classification top-1, logit KL
 * and top-1 agreement, and perplexity.
 */
package dev.compress.evaluation.task;
