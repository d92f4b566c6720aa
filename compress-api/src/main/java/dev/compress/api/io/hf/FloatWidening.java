package dev.compress.api.io.hf;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A copy of a graph computed in f32 instead of f16/bf16: every f16/bf16 initializer and Constant
 * widened to f32 (exactly: both are subsets of f32), every {@code Cast} to f16/bf16 made a cast to
 * f32, and the declared f16/bf16 inputs, outputs and value infos retyped.
 *
 * <p>For engines that cannot compute in the checkpoint's dtype: DJL's PyTorch engine aborts the JVM
 * on bf16 arrays, and ONNX Runtime's CPU kernels have no bf16. The widened weights are heap copies
 * (twice the bytes of bf16). Main graph only.
 */
public final class FloatWidening {
  private FloatWidening() {}

  /** Whether {@code model} holds any f16 or bf16 initializer. */
  public static boolean needed(ModelGraph model) {
    return model.graph().initializers().values().stream().anyMatch(t -> narrow(t.dtype()));
  }

  /** The widened copy; {@code model} is not changed. */
  public static ModelGraph toFloat(ModelGraph model) {
    ModelGraph m = model.copy();
    Graph g = m.graph();
    for (Tensor t : List.copyOf(g.initializers().values())) {
      if (narrow(t.dtype())) {
        g.putInitializer(widen(t));
      }
    }
    for (Node n : g.nodes()) {
      if (n.opType().equals("Cast") && n.domain().isEmpty()) {
        long to = n.intAttr("to", -1);
        if (to == DataType.FLOAT16.onnxCode() || to == DataType.BFLOAT16.onnxCode()) {
          n.put(Attribute.of("to", (long) DataType.FLOAT.onnxCode()));
        }
      } else if (n.opType().equals("Constant") && n.attribute("value").isPresent()) {
        Tensor v = n.attribute("value").get().asTensor();
        if (narrow(v.dtype())) {
          n.put(Attribute.of("value", widen(v)));
        }
      }
    }
    retype(g.inputs());
    retype(g.outputs());
    retype(g.valueInfo());
    return m;
  }

  private static boolean narrow(DataType t) {
    return t == DataType.FLOAT16 || t == DataType.BFLOAT16;
  }

  private static Tensor widen(Tensor t) {
    return Tensor.ofFloats(t.name(), t.shape(), t.toFloatArray());
  }

  private static void retype(List<ValueInfo> infos) {
    List<ValueInfo> out = new ArrayList<>();
    for (ValueInfo v : infos) {
      boolean n = v.elemType().map(FloatWidening::narrow).orElse(false);
      out.add(
          n
              ? new ValueInfo(
                  v.name(),
                  DataType.FLOAT.onnxCode(),
                  v.shape(),
                  v.hasTensorType(),
                  v.docString(),
                  v.metadata(),
                  v.preservedType(),
                  v.preserved())
              : v);
    }
    infos.clear();
    infos.addAll(out);
  }
}
