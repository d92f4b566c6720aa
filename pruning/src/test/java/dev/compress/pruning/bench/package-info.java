/** Benchmarks of the pruning passes on real weights: mains, never part of the test suite. */
package dev.compress.pruning.bench;
