/**
 * Benchmarks (main classes, never run by the test suite): {@link
 * dev.compress.quantization.bench.GptqScaleBench} times GPTQ on one large layer against {@code X^T
 * X}.
 */
package dev.compress.quantization.bench;
