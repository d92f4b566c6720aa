package dev.compress.quantization.fp8;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Raises a model's default-domain opset to 19 (the first where {@code QuantizeLinear}/{@code
 * DequantizeLinear} take FLOAT8 types) when that is safe: only from opset 13 or later, and only for
 * operators whose meaning is the same at 19 or whose one change is rewritten here.
 *
 * <p>Between opset 13 and 19 the operators of {@link #UNCHANGED} only gained element types or
 * optional attributes whose defaults keep the old behaviour (e.g. {@code Cast}'s {@code saturate},
 * which only affects FLOAT8 targets; {@code Shape}'s {@code start}/{@code end}). The reductions of
 * {@link #AXES_TO_INPUT} moved {@code axes} from an attribute to an int64 input at opset 18; that
 * attribute is rewritten into a constant input. Any other operator (or an opset below 13, where
 * {@code Softmax}, {@code Split}, {@code Squeeze}/{@code Unsqueeze} and {@code ReduceSum} differ)
 * is a problem naming the operator and node, and nothing changes. Subgraphs are not upgraded (a
 * control-flow node is a problem).
 */
public final class OpsetUpgrade {
  /** The target opset. */
  public static final long TARGET = 19;

  /** Operators whose behaviour is unchanged from opset 13 to 19. */
  public static final Set<String> UNCHANGED =
      Set.of(
          "Abs",
          "Add",
          "And",
          "ArgMax",
          "ArgMin",
          "BatchNormalization",
          "Cast",
          "Ceil",
          "Clip",
          "Concat",
          "Constant",
          "ConstantOfShape",
          "Conv",
          "Cos",
          "CumSum",
          "DequantizeLinear",
          "Div",
          "Dropout",
          "Einsum",
          "Elu",
          "Equal",
          "Erf",
          "Exp",
          "Expand",
          "Flatten",
          "Floor",
          "Gather",
          "GatherElements",
          "Gemm",
          "GlobalAveragePool",
          "Greater",
          "GreaterOrEqual",
          "HardSigmoid",
          "Identity",
          "InstanceNormalization",
          "LayerNormalization",
          "LeakyRelu",
          "Less",
          "LessOrEqual",
          "Log",
          "LogSoftmax",
          "MatMul",
          "MatMulInteger",
          "Max",
          "MaxPool",
          "Mean",
          "Min",
          "Mod",
          "Mul",
          "Neg",
          "Not",
          "Or",
          "Pow",
          "PRelu",
          "QuantizeLinear",
          "Range",
          "Reciprocal",
          "ReduceSum",
          "Relu",
          "Reshape",
          "Shape",
          "Sigmoid",
          "Sign",
          "Sin",
          "Size",
          "Slice",
          "Softmax",
          "Softplus",
          "Sqrt",
          "Squeeze",
          "Sub",
          "Sum",
          "Tanh",
          "Tile",
          "TopK",
          "Transpose",
          "Unsqueeze",
          "Where",
          "Xor",
          "DynamicQuantizeLinear");

  /** Reductions whose {@code axes} attribute becomes an input at opset 18. */
  public static final Set<String> AXES_TO_INPUT =
      Set.of(
          "ReduceMean",
          "ReduceMax",
          "ReduceMin",
          "ReduceProd",
          "ReduceL1",
          "ReduceL2",
          "ReduceLogSum",
          "ReduceLogSumExp",
          "ReduceSumSquare");

  private OpsetUpgrade() {}

  /** Why {@code model} cannot be raised to opset 19, one line per problem (empty: it can). */
  public static List<String> problems(ModelGraph model) {
    List<String> p = new ArrayList<>();
    long from = model.opset("").orElse(1);
    if (from >= TARGET) {
      return p;
    }
    if (from < 13) {
      p.add(
          "the model imports opset "
              + from
              + "; raising it to "
              + TARGET
              + " is supported from opset 13 (Softmax, Split, Squeeze/Unsqueeze and ReduceSum"
              + " changed meaning at 13). HINT: re-export the model at opset >= 13");
      return p;
    }
    for (Node n : model.graph().nodes()) {
      if (!n.domain().isEmpty()) {
        continue;
      }
      if (!UNCHANGED.contains(n.opType()) && !AXES_TO_INPUT.contains(n.opType())) {
        p.add(
            "node '"
                + LinearLayers.nameOf(n)
                + "': operator "
                + n.opType()
                + " is not known to keep its meaning from opset "
                + from
                + " to "
                + TARGET);
      }
    }
    return p;
  }

  /**
   * Raises the opset to 19 in place (nothing when it already is 19 or more).
   *
   * @return the number of reductions rewritten
   * @throws IllegalArgumentException with {@link #problems} when it is not safe
   */
  public static int upgrade(ModelGraph model) {
    List<String> p = problems(model);
    if (!p.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", p));
    }
    if (model.opset("").orElse(1) >= TARGET) {
      return 0;
    }
    Graph g = model.graph();
    Set<String> names = new HashSet<>(g.initializers().keySet());
    g.nodes().forEach(n -> names.addAll(n.outputs()));
    int rewritten = 0;
    for (Node n : g.nodes()) {
      if (n.domain().isEmpty() && AXES_TO_INPUT.contains(n.opType())) {
        Attribute axes = n.attributes().remove("axes");
        if (axes != null) {
          long[] a = axes.asLongs();
          String name = n.name().isEmpty() ? n.output(0) + "_axes" : n.name() + "_axes";
          for (int i = 1; names.contains(name); i++) {
            name = n.name() + "_axes_" + i;
          }
          names.add(name);
          g.putInitializer(Tensor.ofLongs(name, new long[] {a.length}, a));
          while (n.inputs().size() < 2) {
            n.inputs().add("");
          }
          n.inputs().set(1, name);
          rewritten++;
        }
      }
    }
    model.opsetImports().put("", TARGET);
    if (model.irVersion() < 9) {
      model.setIrVersion(9); // opset 19 needs IR 9 (FLOAT8 types)
    }
    return rewritten;
  }
}
