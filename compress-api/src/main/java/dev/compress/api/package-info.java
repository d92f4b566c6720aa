/**
 * The public API of the toolkit: the model graph (ONNX semantics), tensor types, checkpoint readers
 * and writers, and (later) the pass SPI, pipeline spec and runner.
 */
package dev.compress.api;
