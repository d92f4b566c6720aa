/** Benchmarks of the low-rank passes (mains, never run by the build). */
package dev.compress.lowrank.bench;
