/**
 * Pipelines: the spec (YAML or Java builder), the runner that applies passes in order and writes
 * the model atomically with its manifest, and the evaluation SPI.
 */
package dev.compress.api.pipeline;
