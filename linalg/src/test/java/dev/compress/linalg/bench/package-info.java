/**
 * Hand-run benchmarks for {@code compress-linalg} ({@link dev.compress.linalg.bench.LinalgBench});
 * never run by the build.
 */
package dev.compress.linalg.bench;
