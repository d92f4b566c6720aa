package dev.compress.runtime.djl;

import java.util.Set;

/**
 * Which operators the trainable model can back-propagate through. Every kernel of an operator
 * listed in {@link #THROUGH} is built from differentiable PyTorch operations on its float inputs
 * (checked against finite differences in {@code DjlGradientCheckTest}); the outputs of the
 * operators in {@link #STOPS} carry no gradient by definition (shapes, comparisons, integer
 * results). Any other operator reading a value that depends on a parameter is rejected when the
 * trainable model is built. An operator added to the registry is not trainable until it is listed
 * here with a gradient test.
 */
final class Differentiable {
  private Differentiable() {}

  static final Set<String> THROUGH =
      Set.of(
          "Add",
          "Sub",
          "Mul",
          "Div",
          "Pow",
          "Sum",
          "Mean",
          "Max",
          "Min",
          "Neg",
          "Abs",
          "Exp",
          "Log",
          "Sqrt",
          "Reciprocal",
          "Sin",
          "Cos",
          "Tanh",
          "Erf",
          "Relu",
          "Sigmoid",
          "LeakyRelu",
          "Where",
          "Clip",
          "MatMul",
          "Gemm",
          "Softmax",
          "LogSoftmax",
          "ReduceSum",
          "ReduceMean",
          "ReduceMax",
          "ReduceMin",
          "Conv",
          "MaxPool",
          "AveragePool",
          "GlobalAveragePool",
          "GlobalMaxPool",
          "BatchNormalization",
          "LayerNormalization",
          "SimplifiedLayerNormalization",
          "RMSNormalization",
          "com.microsoft::SkipLayerNormalization",
          "com.microsoft::SkipSimplifiedLayerNormalization",
          "Gelu",
          "com.microsoft::Gelu",
          "com.microsoft::BiasGelu",
          "com.microsoft::FastGelu",
          "Identity",
          "Dropout",
          "Reshape",
          "Flatten",
          "Squeeze",
          "Unsqueeze",
          "Transpose",
          "Concat",
          "Gather",
          "Slice",
          "Split",
          "Expand",
          "Cast",
          dev.compress.training.quant.FakeQuantizeOp.QUALIFIED);

  /** Operators whose outputs never carry a gradient (shape, size, comparisons, logic). */
  static final Set<String> STOPS =
      Set.of(
          "Shape",
          "Size",
          "Equal",
          "Less",
          "LessOrEqual",
          "Greater",
          "GreaterOrEqual",
          "And",
          "Or",
          "Xor",
          "Not",
          "ConstantOfShape",
          "Range");

  /** Why an operator not in either set cannot be trained through. */
  static String why(String op) {
    return switch (op) {
      case "Floor", "Ceil", "Round", "Sign" ->
          "its gradient is zero almost everywhere (for quantization-aware training use the"
              + " straight-through fake quantization of compress-training)";
      case "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger" ->
          "it computes on integer (quantized) values; train the float model and quantize"
              + " afterwards, or use the straight-through fake quantization";
      case "com.microsoft::MatMulNBits" ->
          "its weight is packed low-bit integers; train the float model or LoRA adapters beside it";
      default -> "it has no gradient rule in the interpreter";
    };
  }
}
