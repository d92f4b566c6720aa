package dev.compress.evaluation.layers;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.ort.OrtExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Per-layer error of a compressed model against its original, for each linear layer (MatMul, Gemm,
 * Conv with a constant weight) of the original.
 *
 * <ul>
 *   <li><b>{@link Method#ACTIVATION}</b>, when the compressed graph still produces the layer's
 *       output value (quantization passes keep value names: a {@code DequantizeLinear} feeds the
 *       same MatMul, a {@code MatMulNBits} keeps its name and output, a Gemm's bias Add writes the
 *       old output): the layer outputs are exposed as extra graph outputs of both models, both run
 *       in ONNX Runtime on the same inputs, and the error is {@code ||y_c - y_o|| / ||y_o||} over
 *       all elements. This is the error reaching that point of the network, including error
 *       propagated from earlier layers.
 *   <li><b>{@link Method#WEIGHT}</b>, when the output value is gone but a float weight of the same
 *       name and shape is still there (e.g. pruned in place): {@code ||W_c - W_o|| / ||W_o||}.
 * </ul>
 *
 * Layers with neither are left out. ONNX Runtime is used rather than the DJL interpreter because it
 * runs every model the toolkit writes, quantized operators included.
 */
public final class LayerErrors {
  private LayerErrors() {}

  /** How a layer's error was measured. */
  public enum Method {
    /** Relative error of the layer's output activations on the same inputs. */
    ACTIVATION,
    /** Relative error of the layer's weight tensor. */
    WEIGHT
  }

  /**
   * One layer's error.
   *
   * @param layer the layer (node) name in the original
   * @param method how it was measured
   * @param relativeError {@code ||c - o|| / ||o||}
   */
  public record LayerError(String layer, Method method, double relativeError) {}

  /**
   * Measures every linear layer of {@code original} in {@code compressed}.
   *
   * @param inputs fed to both models (names of the original's inputs)
   * @param threads ONNX Runtime intra-op threads
   */
  public static List<LayerError> measure(
      ModelGraph original, ModelGraph compressed, Map<String, Tensor> inputs, int threads)
      throws CompressionException {
    Graph go = original.graph();
    Graph gc = compressed.graph();
    List<LinearLayer> layers = LinearLayers.of(go);
    Set<String> producedC = new HashSet<>();
    gc.nodes().forEach(n -> producedC.addAll(n.outputs()));
    Set<String> graphOutputs = new HashSet<>();
    go.outputs().forEach(v -> graphOutputs.add(v.name()));
    Map<String, String> byOutput = new LinkedHashMap<>(); // output value -> layer
    List<LayerError> out = new ArrayList<>();
    for (LinearLayer l : layers) {
      if (producedC.contains(l.output())) {
        byOutput.put(l.output(), l.name());
      } else {
        weightError(l, go, gc).ifPresent(out::add);
      }
    }
    if (!byOutput.isEmpty()) {
      Map<String, Tensor> yo = run(original, byOutput.keySet(), graphOutputs, inputs, threads);
      Map<String, Tensor> yc = run(compressed, byOutput.keySet(), graphOutputs, inputs, threads);
      for (Map.Entry<String, String> e : byOutput.entrySet()) {
        out.add(
            new LayerError(
                e.getValue(),
                Method.ACTIVATION,
                relative(yo.get(e.getKey()).toFloatArray(), yc.get(e.getKey()).toFloatArray())));
      }
    }
    // Report in the original's layer order.
    List<String> order = layers.stream().map(LinearLayer::name).toList();
    out.sort(java.util.Comparator.comparingInt(x -> order.indexOf(x.layer())));
    return out;
  }

  private static java.util.Optional<LayerError> weightError(LinearLayer l, Graph go, Graph gc) {
    Tensor wo = go.initializers().get(l.weight());
    Tensor wc = gc.initializers().get(l.weight());
    if (wo == null
        || wc == null
        || wo.dtype() != DataType.FLOAT
        || wc.dtype() != DataType.FLOAT
        || !java.util.Arrays.equals(wo.shape(), wc.shape())) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(
        new LayerError(l.name(), Method.WEIGHT, relative(wo.toFloatArray(), wc.toFloatArray())));
  }

  private static Map<String, Tensor> run(
      ModelGraph model,
      Set<String> values,
      Set<String> alreadyOutputs,
      Map<String, Tensor> inputs,
      int threads)
      throws CompressionException {
    Graph g = model.graph();
    List<ValueInfo> saved = new ArrayList<>(g.outputs());
    Path tmp = null;
    try {
      for (String v : values) {
        if (!alreadyOutputs.contains(v)) {
          g.outputs().add(ValueInfo.tensor(v, DataType.FLOAT, null));
        }
      }
      tmp = Files.createTempFile("compress-layers-", ".onnx");
      OnnxWriter.write(model, tmp);
      try (OrtExecutor ort =
          OrtExecutor.builder().setModelPath(tmp).optIntraOpThreads(threads).build()) {
        Map<String, Tensor> feed = new LinkedHashMap<>();
        for (String name : ort.inputNames()) {
          feed.put(name, inputs.get(name));
        }
        return ort.forward(feed);
      }
    } catch (IOException e) {
      throw new CompressionException("cannot write a model for per-layer capture: " + e, e);
    } finally {
      g.outputs().clear();
      g.outputs().addAll(saved);
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          tmp.toFile().deleteOnExit();
        }
      }
    }
  }

  /** {@code ||c - o|| / ||o||}; 0 when both are zero. */
  public static double relative(float[] o, float[] c) {
    if (o.length != c.length) {
      throw new IllegalArgumentException("sizes differ: " + o.length + " vs " + c.length);
    }
    double num = 0;
    double den = 0;
    for (int i = 0; i < o.length; i++) {
      double d = (double) c[i] - o[i];
      num += d * d;
      den += (double) o[i] * o[i];
    }
    return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
  }
}
