/**
 * Quality gates: bounds such as {@code cosine.mean: ">= 0.99"} from the {@code evaluate.gates}
 * block, parsed and checked against measured metrics.
 */
package dev.compress.evaluation.gate;
