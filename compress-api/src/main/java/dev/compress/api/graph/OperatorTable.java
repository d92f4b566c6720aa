package dev.compress.api.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The operator signatures {@link OpsetCheck} knows: per domain and operator, the opset versions
 * where it was introduced or its signature changed (attributes added, removed or turned into
 * inputs; input counts), from the ONNX operator changelog ({@code docs/Changelog.md}) and, for
 * {@code com.microsoft}, ONNX Runtime's contrib operator schemas ({@code ContribOperators.md},
 * version 1.22). Versions that only widened element types are not listed: they do not change what
 * this check looks at.
 *
 * <p>The operators are those this project reads or writes: what the canonicalizer, the quantized
 * formats and the passes create, what {@link OpsetUpgrade#UNCHANGED} carries, what the DJL
 * interpreter runs, and what layer discovery matches.
 */
final class OperatorTable {
  /** The newest default-domain opset whose signatures this table holds completely. */
  static final long COMPLETE_TO = 21;

  static final String ONNX = "ai.onnx";
  static final String MS = "com.microsoft";

  /** No upper bound on the number of inputs (variadic). */
  static final int ANY = Integer.MAX_VALUE;

  /**
   * One signature.
   *
   * @param since the opset version it starts at
   * @param minInputs inputs that must be present (trailing omitted optional inputs not counted)
   * @param maxInputs inputs that may be present ({@link #ANY}: variadic)
   * @param attributes every attribute name it defines
   */
  record Signature(long since, int minInputs, int maxInputs, Set<String> attributes) {}

  private static final Map<String, Map<String, List<Signature>>> TABLE = new HashMap<>();

  private OperatorTable() {}

  /**
   * The signatures of {@code op} in {@code domain} ({@link #ONNX} or {@link #MS}), oldest first;
   * null when the table does not know the operator.
   */
  static List<Signature> signatures(String domain, String op) {
    Map<String, List<Signature>> d = TABLE.get(domain);
    return d == null ? null : d.get(op);
  }

  /** The operators known per domain, sorted. */
  static Map<String, Set<String>> operators() {
    Map<String, Set<String>> out = new TreeMap<>();
    TABLE.forEach(
        (d, ops) -> out.put(d, Collections.unmodifiableSet(new java.util.TreeSet<>(ops.keySet()))));
    return out;
  }

  private static Signature v(long since, int min, int max, String... attributes) {
    return new Signature(since, min, max, Set.of(attributes));
  }

  private static void op(String domain, String name, Signature... versions) {
    TABLE.computeIfAbsent(domain, k -> new HashMap<>()).put(name, List.of(versions));
  }

  private static void onnx(String name, Signature... versions) {
    op(ONNX, name, versions);
  }

  private static void onnx(List<String> names, Signature... versions) {
    names.forEach(n -> onnx(n, versions));
  }

  static {
    // Unary element-wise operators of opset 1 that dropped consumed_inputs at 6.
    onnx(
        List.of("Abs", "Ceil", "Exp", "Floor", "Log", "Neg", "Reciprocal", "Relu", "Sigmoid"),
        v(1, 1, 1, "consumed_inputs"),
        v(6, 1, 1));
    onnx(List.of("Sqrt", "Tanh"), v(1, 1, 1, "consumed_inputs"), v(6, 1, 1));
    onnx(List.of("Acos", "Asin", "Atan", "Cos", "Sin", "Tan"), v(7, 1, 1));
    onnx(
        List.of("Acosh", "Asinh", "Atanh", "Cosh", "Sinh", "Erf", "Sign", "IsNaN", "NonZero"),
        v(9, 1, 1));
    onnx(List.of("Identity", "Not", "Size", "Softplus", "Softsign"), v(1, 1, 1));
    onnx(List.of("GlobalAveragePool", "GlobalMaxPool"), v(1, 1, 1));
    onnx("Round", v(11, 1, 1));
    onnx("DynamicQuantizeLinear", v(11, 1, 1));

    // Binary arithmetic: legacy broadcast attributes until 7 (numpy broadcasting since).
    onnx(
        List.of("Add", "Sub", "Mul", "Div"),
        v(1, 2, 2, "axis", "broadcast", "consumed_inputs"),
        v(6, 2, 2, "axis", "broadcast"),
        v(7, 2, 2));
    onnx(
        List.of("And", "Or", "Xor", "Equal", "Greater", "Less"),
        v(1, 2, 2, "axis", "broadcast"),
        v(7, 2, 2));
    onnx("Pow", v(1, 2, 2, "axis", "broadcast"), v(7, 2, 2));
    onnx(List.of("GreaterOrEqual", "LessOrEqual"), v(12, 2, 2));
    onnx("PRelu", v(1, 2, 2, "consumed_inputs"), v(6, 2, 2));
    onnx("Mod", v(10, 2, 2, "fmod"));
    onnx("MatMul", v(1, 2, 2));
    onnx("MatMulInteger", v(10, 2, 4));
    onnx("Expand", v(8, 2, 2));
    onnx("Where", v(9, 3, 3));
    onnx(List.of("Max", "Min", "Mean", "Sum"), v(1, 1, ANY, "consumed_inputs"), v(6, 1, ANY));

    // Activations.
    onnx("Elu", v(1, 1, 1, "alpha", "consumed_inputs"), v(6, 1, 1, "alpha"));
    onnx("LeakyRelu", v(1, 1, 1, "alpha", "consumed_inputs"), v(6, 1, 1, "alpha"));
    onnx(
        "HardSigmoid", v(1, 1, 1, "alpha", "beta", "consumed_inputs"), v(6, 1, 1, "alpha", "beta"));
    onnx("Selu", v(1, 1, 1, "alpha", "consumed_inputs", "gamma"), v(6, 1, 1, "alpha", "gamma"));
    onnx("Celu", v(12, 1, 1, "alpha"));
    onnx("ThresholdedRelu", v(10, 1, 1, "alpha"));
    onnx(List.of("Softmax", "LogSoftmax", "Hardmax"), v(1, 1, 1, "axis"));
    onnx("Gelu", v(20, 1, 1, "approximate"));
    onnx(
        "Clip", v(1, 1, 1, "consumed_inputs", "max", "min"), v(6, 1, 1, "max", "min"), v(11, 1, 3));

    // Normalization.
    onnx(
        "BatchNormalization",
        v(1, 5, 5, "consumed_inputs", "epsilon", "is_test", "momentum", "spatial"),
        v(6, 5, 5, "epsilon", "is_test", "momentum", "spatial"),
        v(7, 5, 5, "epsilon", "momentum", "spatial"),
        v(9, 5, 5, "epsilon", "momentum"),
        v(14, 5, 5, "epsilon", "momentum", "training_mode"));
    onnx("InstanceNormalization", v(1, 3, 3, "consumed_inputs", "epsilon"), v(6, 3, 3, "epsilon"));
    onnx("LayerNormalization", v(17, 2, 3, "axis", "epsilon", "stash_type"));
    onnx("RMSNormalization", v(23, 2, 2, "axis", "epsilon", "stash_type"));
    onnx("LRN", v(1, 1, 1, "alpha", "beta", "bias", "size"));
    onnx(
        "Dropout",
        v(1, 1, 1, "consumed_inputs", "is_test", "ratio"),
        v(6, 1, 1, "is_test", "ratio"),
        v(7, 1, 1, "ratio"),
        v(12, 1, 3, "seed"));

    // Linear algebra, convolution, pooling.
    onnx(
        "Gemm",
        v(1, 3, 3, "alpha", "beta", "broadcast", "transA", "transB"),
        v(7, 3, 3, "alpha", "beta", "transA", "transB"),
        v(11, 2, 3, "alpha", "beta", "transA", "transB"));
    onnx("Einsum", v(12, 1, ANY, "equation"));
    String[] conv = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"};
    onnx("Conv", v(1, 2, 3, conv));
    onnx("ConvInteger", v(10, 2, 4, conv));
    onnx("QLinearConv", v(10, 8, 9, conv));
    onnx("QLinearMatMul", v(10, 8, 8));
    onnx(
        "ConvTranspose",
        v(
            1,
            2,
            3,
            "auto_pad",
            "dilations",
            "group",
            "kernel_shape",
            "output_padding",
            "output_shape",
            "pads",
            "strides"));
    onnx(
        "AveragePool",
        v(1, 1, 1, "auto_pad", "kernel_shape", "pads", "strides"),
        v(7, 1, 1, "auto_pad", "count_include_pad", "kernel_shape", "pads", "strides"),
        v(
            10,
            1,
            1,
            "auto_pad",
            "ceil_mode",
            "count_include_pad",
            "kernel_shape",
            "pads",
            "strides"),
        v(
            19,
            1,
            1,
            "auto_pad",
            "ceil_mode",
            "count_include_pad",
            "dilations",
            "kernel_shape",
            "pads",
            "strides"));
    onnx(
        "MaxPool",
        v(1, 1, 1, "auto_pad", "kernel_shape", "pads", "strides"),
        v(8, 1, 1, "auto_pad", "kernel_shape", "pads", "storage_order", "strides"),
        v(
            10,
            1,
            1,
            "auto_pad",
            "ceil_mode",
            "dilations",
            "kernel_shape",
            "pads",
            "storage_order",
            "strides"));

    // Recurrent.
    String[] rnn = {
      "activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size"
    };
    onnx(
        "RNN",
        v(1, 3, 6, plus(rnn, "output_sequence")),
        v(7, 3, 6, rnn),
        v(14, 3, 6, plus(rnn, "layout")));
    onnx(
        "GRU",
        v(1, 3, 6, plus(rnn, "output_sequence")),
        v(3, 3, 6, plus(rnn, "linear_before_reset", "output_sequence")),
        v(7, 3, 6, plus(rnn, "linear_before_reset")),
        v(14, 3, 6, plus(rnn, "layout", "linear_before_reset")));
    onnx(
        "LSTM",
        v(1, 3, 8, plus(rnn, "input_forget", "output_sequence")),
        v(7, 3, 8, plus(rnn, "input_forget")),
        v(14, 3, 8, plus(rnn, "input_forget", "layout")));

    // Quantization.
    onnx(
        "QuantizeLinear",
        v(10, 2, 3),
        v(13, 2, 3, "axis"),
        v(19, 2, 3, "axis", "saturate"),
        v(21, 2, 3, "axis", "block_size", "output_dtype", "saturate"));
    onnx("DequantizeLinear", v(10, 2, 3), v(13, 2, 3, "axis"), v(21, 2, 3, "axis", "block_size"));

    // Shapes, indexing and data movement.
    onnx("Cast", v(1, 1, 1, "to"), v(19, 1, 1, "saturate", "to"));
    onnx("Concat", v(1, 1, ANY, "axis"));
    onnx(
        "Constant",
        v(1, 0, 0, "value"),
        v(11, 0, 0, "sparse_value", "value"),
        v(
            12,
            0,
            0,
            "sparse_value",
            "value",
            "value_float",
            "value_floats",
            "value_int",
            "value_ints",
            "value_string",
            "value_strings"));
    onnx("ConstantOfShape", v(9, 1, 1, "value"));
    onnx("EyeLike", v(9, 1, 1, "dtype", "k"));
    onnx("Range", v(11, 3, 3));
    onnx("OneHot", v(9, 3, 3, "axis"));
    onnx("CumSum", v(11, 2, 2, "exclusive", "reverse"));
    onnx("DepthToSpace", v(1, 1, 1, "blocksize"), v(11, 1, 1, "blocksize", "mode"));
    onnx("SpaceToDepth", v(1, 1, 1, "blocksize"));
    onnx("Flatten", v(1, 1, 1, "axis"));
    onnx("Transpose", v(1, 1, 1, "perm"));
    onnx("Shape", v(1, 1, 1), v(15, 1, 1, "end", "start"));
    onnx("Reshape", v(1, 1, 1, "consumed_inputs", "shape"), v(5, 2, 2), v(14, 2, 2, "allowzero"));
    onnx("Squeeze", v(1, 1, 1, "axes"), v(13, 1, 2));
    onnx("Unsqueeze", v(1, 1, 1, "axes"), v(13, 2, 2));
    onnx("Slice", v(1, 1, 1, "axes", "ends", "starts"), v(10, 3, 5));
    onnx(
        "Split",
        v(1, 1, 2, "axis", "split"),
        v(2, 1, 1, "axis", "split"),
        v(13, 1, 2, "axis"),
        v(18, 1, 2, "axis", "num_outputs"));
    onnx("Tile", v(1, 3, 3), v(6, 2, 2));
    onnx(
        "Pad",
        v(1, 1, 1, "mode", "paddings", "value"),
        v(2, 1, 1, "mode", "pads", "value"),
        v(11, 2, 3, "mode"),
        v(18, 2, 4, "mode"));
    onnx("Gather", v(1, 2, 2, "axis"));
    onnx("GatherElements", v(11, 2, 2, "axis"));
    onnx("GatherND", v(11, 2, 2), v(12, 2, 2, "batch_dims"));
    onnx("ScatterElements", v(11, 3, 3, "axis"), v(16, 3, 3, "axis", "reduction"));
    onnx("ScatterND", v(11, 3, 3), v(16, 3, 3, "reduction"));
    onnx(
        "TopK",
        v(1, 1, 1, "axis", "k"),
        v(10, 2, 2, "axis"),
        v(11, 2, 2, "axis", "largest", "sorted"));
    onnx(
        "ArgMax",
        v(1, 1, 1, "axis", "keepdims"),
        v(12, 1, 1, "axis", "keepdims", "select_last_index"));
    onnx(
        "ArgMin",
        v(1, 1, 1, "axis", "keepdims"),
        v(12, 1, 1, "axis", "keepdims", "select_last_index"));
    onnx("IsInf", v(10, 1, 1, "detect_negative", "detect_positive"));
    onnx("NonMaxSuppression", v(10, 2, 5, "center_point_box"));

    // Reductions: axes became an input at 13 (ReduceSum) or 18 (the others).
    onnx(
        "ReduceSum",
        v(1, 1, 1, "axes", "keepdims"),
        v(13, 1, 2, "keepdims", "noop_with_empty_axes"));
    onnx(
        List.of(
            "ReduceMean",
            "ReduceMax",
            "ReduceMin",
            "ReduceProd",
            "ReduceL1",
            "ReduceL2",
            "ReduceLogSum",
            "ReduceLogSumExp",
            "ReduceSumSquare"),
        v(1, 1, 1, "axes", "keepdims"),
        v(18, 1, 2, "keepdims", "noop_with_empty_axes"));

    // Control flow (inputs may all be omitted optional ones).
    onnx("If", v(1, 1, 1, "else_branch", "then_branch"));
    onnx("Loop", v(1, 0, ANY, "body"));
    onnx(
        "Scan",
        v(8, 1, ANY, "body", "directions", "num_scan_inputs"),
        v(
            9,
            1,
            ANY,
            "body",
            "num_scan_inputs",
            "scan_input_axes",
            "scan_input_directions",
            "scan_output_axes",
            "scan_output_directions"));

    // ONNX Runtime contrib operators (com.microsoft, version 1) that this project writes or reads.
    op(MS, "Gelu", v(1, 1, 1));
    op(MS, "MatMulNBits", v(1, 3, 6, "K", "N", "accuracy_level", "bits", "block_size"));
    op(MS, "GatherBlockQuantized", v(1, 3, 4, "block_size", "gather_axis", "quantize_axis"));
    op(MS, "DynamicQuantizeMatMul", v(1, 3, 5));
    op(MS, "MatMulIntegerToFloat", v(1, 4, 7));
    op(MS, "QGemm", v(1, 6, 9, "alpha", "transA", "transB"));
    op(MS, "SkipLayerNormalization", v(1, 3, 5, "epsilon"));
    op(MS, "SkipSimplifiedLayerNormalization", v(1, 3, 4, "epsilon"));
  }

  private static String[] plus(String[] base, String... more) {
    List<String> all = new ArrayList<>(List.of(base));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }
}
