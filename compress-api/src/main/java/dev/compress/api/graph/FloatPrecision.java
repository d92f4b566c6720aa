package dev.compress.api.graph;

import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

  /**
   * A float copy of {@code model} to calibrate on when it holds half-precision values: the model
   * itself when it holds none ({@link ModelGraph#copy} shares the weights; only converted ones are
   * new). Passes calibrate in f32 and write what they do not quantize back in the weight's own
   * type.
   */
  public static ModelGraph widened(ModelGraph model) {
    if (!holdsHalf(model.graph())) {
      return model;
    }
    ModelGraph copy = model.copy();
    convert(copy, DataType.FLOAT);
    return copy;
  }

  /**
   * {@code calibration} as {@link #widened(ModelGraph)}'s copy reads it: FLOAT16 and BFLOAT16
   * tensors widened to FLOAT (exactly), the others (token ids, masks) as they are; the set itself
   * when it holds no half tensor.
   */
  public static CalibrationSet widened(CalibrationSet calibration) {
    boolean half =
        calibration.batches().stream()
            .flatMap(b -> b.values().stream())
            .anyMatch(t -> t.dtype() == DataType.FLOAT16 || t.dtype() == DataType.BFLOAT16);
    if (!half) {
      return calibration;
    }
    List<Map<String, Tensor>> batches = new ArrayList<>();
    for (Map<String, Tensor> b : calibration.batches()) {
      Map<String, Tensor> w = new LinkedHashMap<>();
      b.forEach(
          (k, t) -> w.put(k, converted(t.dtype(), DataType.FLOAT) ? cast(t, DataType.FLOAT) : t));
      batches.add(w);
    }
    return new CalibrationSet(batches, calibration.identity());
  }

  private static boolean holdsHalf(Graph g) {
    for (Tensor t : g.initializers().values()) {
      if (t.dtype() == DataType.FLOAT16 || t.dtype() == DataType.BFLOAT16) {
        return true;
      }
    }
    for (Node n : g.nodes()) {
      for (Attribute a : n.attributes().values()) {
        boolean half =
            switch (a.type()) {
              case TENSOR ->
                  a.asTensor().dtype() == DataType.FLOAT16
                      || a.asTensor().dtype() == DataType.BFLOAT16;
              case GRAPH -> holdsHalf(a.asGraph());
              case GRAPHS -> a.asGraphs().stream().anyMatch(FloatPrecision::holdsHalf);
              default -> false;
            };
        if (half) {
          return true;
        }
      }
    }
    return g.inputs().stream()
        .anyMatch(
            v ->
                v.elemType()
                    .filter(t -> t == DataType.FLOAT16 || t == DataType.BFLOAT16)
                    .isPresent());
  }

  /**
   * One line refusing BFLOAT16 weights to a pass that runs the model on the DJL executor
   * (calibration): DJL's PyTorch engine aborts the process on bf16 tensors, so the pass checks this
   * before anything runs. Empty when none of {@code weights} is bf16.
   *
   * @param what what the pass does on DJL, e.g. {@code "gptq calibrates"}
   * @param weights the weight names of the layers it would calibrate
   */
  public static Optional<String> bfloat16Problem(
      String what, Graph graph, Collection<String> weights) {
    List<String> bf16 =
        weights.stream()
            .distinct()
            .filter(w -> graph.constant(w).filter(t -> t.dtype() == DataType.BFLOAT16).isPresent())
            .toList();
    if (bf16.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        bf16.size()
            + (bf16.size() == 1 ? " weight is" : " weights are")
            + " BFLOAT16 (first: "
            + bf16.getFirst()
            + "); "
            + what
            + " on DJL's PyTorch engine, which aborts the process on bf16 tensors. HINT: convert"
            + " the model to FLOAT16 or FLOAT first");
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
