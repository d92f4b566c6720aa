/**
 * Will hold side-by-side measurement of original and compressed models: latency distributions with
 * confidence intervals, throughput, memory, accuracy and fidelity metrics, and JSON/HTML reports
 * (issue 4).
 */
package dev.compress.evaluation;
