/** Bytes on disk of a model: the ONNX file plus the external-data files its tensors point to. */
package dev.compress.evaluation.size;
