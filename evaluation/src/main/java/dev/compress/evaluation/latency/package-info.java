/**
 * Latency measurement: two workloads timed alternately in one process, so drift on a shared, noisy
 * machine hits both alike, summarized as percentiles.
 */
package dev.compress.evaluation.latency;
