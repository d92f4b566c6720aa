/**
 * W8A8 post-training quantization: static ({@code ptq-static}, calibrated activation ranges, ONNX
 * QDQ) and dynamic ({@code ptq-dynamic}, run-time activation ranges, ONNX Runtime's
 * DynamicQuantizeLinear/MatMulInteger pattern).
 */
package dev.compress.quantization.ptq;
