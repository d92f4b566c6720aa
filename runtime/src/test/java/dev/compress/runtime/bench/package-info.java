/**
 * Benchmarks run as plain {@code main} programs (never as tests): {@link
 * dev.compress.runtime.bench.ExecutorBench} compares the DJL interpreter with ONNX Runtime on
 * all-MiniLM-L6-v2.
 */
package dev.compress.runtime.bench;
