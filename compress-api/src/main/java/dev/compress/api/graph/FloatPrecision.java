package dev.compress.api.graph;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Converts a model between the float types FLOAT, FLOAT16 and BFLOAT16 throughout, as exporters
 * write half-precision models: every initializer and {@code Constant} value of the other two types
 * rounded to the target (nearest, ties to even; exact when widening to FLOAT), every graph input,
 * output and value info of those types retyped, and a {@code Cast} to one of them made a cast to
 * the target. Subgraphs are converted too. Values of other types are left alone.
 *
 * <p>Use: tests that hold passes against half-precision weights (and widen a bf16 result to FLOAT
 * to run it where a runtime has no bf16 kernels: ONNX Runtime's CPU provider), and users who want a
 * smaller float baseline. A model converted to half precision computes in it, so its outputs differ
 * from the f32 model's by that type's rounding.
 */
public final class FloatPrecision {
  private static final Set<DataType> TYPES =
      Set.of(DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16);

  private FloatPrecision() {}

  /**
   * Converts {@code model} in place.
   *
   * @param to {@link DataType#FLOAT}, {@link DataType#FLOAT16} or {@link DataType#BFLOAT16}
   * @throws IllegalArgumentException for another target type
   */
  public static void convert(ModelGraph model, DataType to) {
    if (!TYPES.contains(to)) {
      throw new IllegalArgumentException("convert to FLOAT, FLOAT16 or BFLOAT16, found " + to);
    }
    convert(model.graph(), to);
  }

  private static void convert(Graph g, DataType to) {
    for (Map.Entry<String, Tensor> e : List.copyOf(g.initializers().entrySet())) {
      if (converted(e.getValue().dtype(), to)) {
        g.putInitializer(cast(e.getValue(), to));
      }
    }
    retype(g.inputs(), to);
    retype(g.outputs(), to);
    retype(g.valueInfo(), to);
    for (Node n : g.nodes()) {
      for (Attribute a : List.copyOf(n.attributes().values())) {
        if (a.type() == Attribute.Type.TENSOR && converted(a.asTensor().dtype(), to)) {
          n.put(Attribute.of(a.name(), cast(a.asTensor(), to)));
        } else if (a.type() == Attribute.Type.GRAPH) {
          convert(a.asGraph(), to);
        } else if (a.type() == Attribute.Type.GRAPHS) {
          a.asGraphs().forEach(sub -> convert(sub, to));
        }
      }
      if (n.opType().equals("Cast")
          && DataType.fromOnnx((int) n.intAttr("to", 0))
              .filter(t -> converted(t, to))
              .isPresent()) {
        n.put(Attribute.of("to", (long) to.onnxCode()));
      }
    }
  }

  private static boolean converted(DataType from, DataType to) {
    return from != to && TYPES.contains(from);
  }

  private static Tensor cast(Tensor t, DataType to) {
    return Tensor.ofFloats(t.name(), to, t.shape(), t.toFloatArray()).withDocString(t.docString());
  }

  private static void retype(List<ValueInfo> values, DataType to) {
    for (int i = 0; i < values.size(); i++) {
      ValueInfo v = values.get(i);
      if (v.elemType().filter(t -> converted(t, to)).isPresent()) {
        values.set(
            i,
            new ValueInfo(
                v.name(),
                to.onnxCode(),
                v.shape(),
                true,
                v.docString(),
                v.metadata(),
                v.preservedType(),
                v.preserved()));
      }
    }
  }
}
