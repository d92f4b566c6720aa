package dev.compress.quantization.output;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.io.hf.HfCheckpoint;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.format.compressedtensors.CompressedTensorsCheckpoint;
import dev.compress.quantization.format.compressedtensors.SparseBitmaskLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sparse half of {@link CompressedTensorsOutput}: a pruned model's changed linear weights in
 * {@link SparseBitmaskLayout}, in the checkpoint's dtype (as the folder writer rounds an f32
 * weight), and the {@code sparsity_config} that describes them.
 */
final class SparseOutput {
  private SparseOutput() {}

  /**
   * Puts the sparse tensors of every linear module the passes changed into {@code modules} and
   * returns the {@code quantization_config} ({@code sparsity_config}) of the folder.
   *
   * @param format {@link SparseBitmaskLayout#SPARSE_24} or {@link SparseBitmaskLayout#SPARSE}
   * @throws UnsupportedModelException when a linear layer is no longer a float Gemm, a changed
   *     weight does not fit the format, or no weight was changed
   */
  static ObjectNode write(
      HfCheckpoint src, ModelGraph model, String format, Map<String, List<Tensor>> modules)
      throws UnsupportedModelException {
    Graph g = model.graph();
    List<String> ignore = new ArrayList<>();
    for (Node n : CompressedTensorsOutput.linearModules(src, g)) {
      String name = n.name();
      Tensor original = src.tensor(name + ".weight");
      if (!n.opType().equals("Gemm") || n.intAttr("transB", 0) != 1) {
        throw new UnsupportedModelException(
            "compressed-tensors output: layer '"
                + name
                + "' is a "
                + n.opType()
                + " node, not the float Gemm [out, in] of the checkpoint; a quantized layer in a"
                + " pruned model? HINT: write it as hf or onnx");
      }
      Tensor w =
          g.constant(n.input(1))
              .orElseThrow(
                  () ->
                      new UnsupportedModelException(
                          "compressed-tensors output: the weight of '"
                              + name
                              + "' is not a constant"));
      if (w.dtype() != original.dtype() && w.dtype() == DataType.FLOAT) {
        // Widened for computing or rewritten in f32 by a pass: the checkpoint's dtype, as the
        // folder writer rounds it.
        w = Tensor.ofFloats(name + ".weight", original.dtype(), w.shape(), w.toFloatArray());
      }
      if (!java.util.Arrays.equals(w.shape(), original.shape()) || w.dtype() != original.dtype()) {
        throw new UnsupportedModelException(
            "compressed-tensors output: the weight of '"
                + name
                + "' is now "
                + w.dtype()
                + " "
                + w.shapeString()
                + ", the checkpoint has "
                + original.dtype()
                + " "
                + original.shapeString());
      }
      if (w.data().equals(original.data())) {
        ignore.add(name); // not pruned: stays dense
        continue;
      }
      try {
        modules.put(
            name,
            format.equals(SparseBitmaskLayout.SPARSE_24)
                ? SparseBitmaskLayout.pack24(name, w)
                : SparseBitmaskLayout.packBitmask(name, w));
      } catch (IllegalArgumentException e) {
        throw new UnsupportedModelException(
            "compressed-tensors output: "
                + e.getMessage()
                + "; HINT: prune with pattern: 2:4 in every pruning pass");
      }
    }
    if (modules.isEmpty()) {
      throw new UnsupportedModelException(
          "compressed-tensors output: no linear weight was changed by the pruning passes");
    }
    long zeros = 0;
    long total = 0;
    for (Map.Entry<String, Tensor> e : src.tensors().entrySet()) {
      String owner = e.getKey().substring(0, Math.max(0, e.getKey().lastIndexOf('.')));
      Tensor t =
          modules.containsKey(owner) && e.getKey().endsWith(".weight")
              ? SparseBitmaskLayout.unpack(byName(modules.get(owner)), owner)
              : e.getValue();
      total += t.elementCount();
      zeros += t.dtype().isFloatingPoint() ? zeros(t) : 0;
    }
    ObjectNode qc = new ObjectMapper().createObjectNode();
    qc.put("quant_method", CompressedTensorsCheckpoint.QUANT_METHOD);
    ObjectNode sc = qc.putObject("sparsity_config");
    sc.put("format", format);
    sc.putArray("targets").add("Linear");
    ignore.forEach(sc.putArray("ignore")::add);
    sc.put("global_sparsity", (double) zeros / total);
    sc.put(
        "sparsity_structure",
        format.equals(SparseBitmaskLayout.SPARSE_24) ? "2:4" : "unstructured");
    qc.put("version", CompressedTensorsCheckpoint.VERSION);
    return qc;
  }

  private static Map<String, Tensor> byName(List<Tensor> ts) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    ts.forEach(t -> m.put(t.name(), t));
    return m;
  }

  /** Zeros of a float tensor, read a block at a time. */
  private static long zeros(Tensor t) {
    long n = t.elementCount();
    float[] buf = new float[(int) Math.min(n, 1 << 16)];
    long z = 0;
    for (long at = 0; at < n; at += buf.length) {
      int len = (int) Math.min(buf.length, n - at);
      t.readFloats(at, buf, 0, len);
      for (int i = 0; i < len; i++) {
        z += buf[i] == 0 ? 1 : 0;
      }
    }
    return z;
  }
}
