/**
 * Tensors: element types ({@link dev.compress.api.tensor.DataType}), immutable memory-mappable
 * tensors ({@link dev.compress.api.tensor.Tensor}) and quantization parameters ({@link
 * dev.compress.api.tensor.QuantParams}).
 */
package dev.compress.api.tensor;
