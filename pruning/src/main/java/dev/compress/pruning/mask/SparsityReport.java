package dev.compress.pruning.mask;

import dev.compress.api.pass.PassReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The report lines every unstructured / N:M pruning pass gives: the real sparsity of each layer
 * (zeros over elements of its weight after the pass, counting weights that were zero already), the
 * overall sparsity, and the plain statement of what the sparsity buys at run time.
 *
 * <p>Storage: the weights stay dense. ONNX's {@code sparse_initializer} would not help: ONNX
 * Runtime turns every sparse initializer into a dense one when it loads the model ({@code
 * Graph::Graph} in {@code onnxruntime/core/graph/graph.cc} calls {@code
 * SparseTensorProtoToDenseTensorProto}), so it saves neither memory nor time there, and its COO
 * indices (int64 in the ONNX checker) cost more bytes than the zeros they replace at 50% sparsity.
 */
public final class SparsityReport {
  /** What ONNX Runtime on CPU does with the zeros, stated in every report. */
  public static final String RUNTIME_NOTE =
      "ONNX Runtime gets no speed from unstructured or N:M (2:4) sparsity on CPU: its"
          + " MatMul/Gemm kernels are dense, so the pruned model runs as fast as the original."
          + " Weights are stored dense: the file keeps its size.";

  private final Map<String, Double> metrics = new LinkedHashMap<>();
  private final PassReport.LayerMetrics layerMetrics = new PassReport.LayerMetrics();
  private final List<String> notes = new ArrayList<>();
  private long zeros;
  private long elements;
  private long pruned;

  /** An empty report. */
  public SparsityReport() {}

  /**
   * Records one layer.
   *
   * @param layer the layer name
   * @param weight the weight after pruning, any order
   * @param prunedNow weights this pass set to zero (excluding those zero already)
   */
  public void layer(String layer, float[] weight, long prunedNow) {
    long z = 0;
    for (float v : weight) {
      if (v == 0f) {
        z++;
      }
    }
    zeros += z;
    elements += weight.length;
    pruned += prunedNow;
    layerMetrics.put(layer, "sparsity", weight.length == 0 ? 0.0 : (double) z / weight.length);
  }

  /** Adds a metric of the whole pass. */
  public void metric(String key, double value) {
    metrics.put(key, value);
  }

  /** Adds a metric of one layer. */
  public void layerMetric(String layer, String key, double value) {
    layerMetrics.put(layer, key, value);
  }

  /** The per-layer metrics: {@code sparsity} of each layer, and what the pass added. */
  public Map<String, Map<String, Double>> layerMetrics() {
    return layerMetrics.asMap();
  }

  /** Adds a note line. */
  public void note(String line) {
    notes.add(line);
  }

  /**
   * The metrics of the whole pass: {@code sparsity} (zeros over elements of the touched weights),
   * {@code pruned_weights}, {@code bytes_saved} 0 and {@code stored_dense} 1, and {@code
   * ort_cpu_speedup} 1 (no speed from the zeros).
   */
  public Map<String, Double> metrics() {
    Map<String, Double> m = new LinkedHashMap<>(metrics);
    m.put("sparsity", elements == 0 ? 0.0 : (double) zeros / elements);
    m.put("pruned_weights", (double) pruned);
    m.put("bytes_saved", 0.0);
    m.put("stored_dense", 1.0);
    m.put("ort_cpu_speedup", 1.0);
    return m;
  }

  /**
   * The notes for the pass report: the lines noted (information), the overall sparsity
   * (information), and {@link #RUNTIME_NOTE} as a warning.
   */
  public List<PassReport.Note> notes() {
    List<PassReport.Note> out = new ArrayList<>();
    notes.forEach(n -> out.add(PassReport.Note.info(n)));
    out.add(
        PassReport.Note.info(
            String.format(
                "sparsity %.4f: %d of %d weights are zero in the pruned layers",
                elements == 0 ? 0.0 : (double) zeros / elements, zeros, elements)));
    out.add(PassReport.Note.warning(RUNTIME_NOTE));
    return out;
  }
}
