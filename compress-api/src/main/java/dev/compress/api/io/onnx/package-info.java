/**
 * ONNX checkpoint I/O: {@link dev.compress.api.io.onnx.OnnxReader} maps a {@code .onnx} file and
 * decodes it into the graph IR with a hand-written, bounds-checked protobuf decoder (weights stay
 * in the mapping, zero-copy); {@link dev.compress.api.io.onnx.OnnxWriter} streams the IR back out,
 * optionally with tensors in an external-data file. No protobuf library or generated code is
 * involved; fields the IR does not model are carried through unchanged.
 */
package dev.compress.api.io.onnx;
