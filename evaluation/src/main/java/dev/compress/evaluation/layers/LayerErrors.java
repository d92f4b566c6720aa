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
import dev.compress.runtime.Executor;
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
 * Layers with neither are left out. The activations are captured by the DJL interpreter when both
 * models are open in it ({@link #measure(ModelGraph, ModelGraph, Executor, Executor, Map)}: each
 * layer output is recorded as an input of its first consumer, or taken from the graph outputs), and
 * otherwise by ONNX Runtime ({@link #measure(ModelGraph, ModelGraph, Map, int)}), which runs every
 * model the toolkit writes, quantized operators included.
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
   * Measures every linear layer of {@code original} in {@code compressed}, capturing activations
   * with executors that can capture ({@link Executor#supportsCapture()}, the DJL interpreter)
   * already open on both models.
   *
   * @param inputs fed to both models (names of the original's inputs)
   */
  public static List<LayerError> measure(
      ModelGraph original,
      ModelGraph compressed,
      Executor originalExec,
      Executor compressedExec,
      Map<String, Tensor> inputs)
      throws CompressionException {
    if (!originalExec.supportsCapture() || !compressedExec.supportsCapture()) {
      throw new IllegalArgumentException("both executors must support capture");
    }
    return measure(
        original,
        compressed,
        (model, values) ->
            capture(model, values, model == original ? originalExec : compressedExec, inputs));
  }

  /**
   * Measures every linear layer of {@code original} in {@code compressed}, capturing activations by
   * running both in ONNX Runtime with the layer outputs exposed as graph outputs.
   *
   * @param inputs fed to both models (names of the original's inputs)
   * @param threads ONNX Runtime intra-op threads
   */
  public static List<LayerError> measure(
      ModelGraph original, ModelGraph compressed, Map<String, Tensor> inputs, int threads)
      throws CompressionException {
    Set<String> graphOutputs = new HashSet<>();
    original.graph().outputs().forEach(v -> graphOutputs.add(v.name()));
    return measure(
        original, compressed, (model, values) -> run(model, values, graphOutputs, inputs, threads));
  }

  /** Values of a model, by name. */
  @FunctionalInterface
  private interface Capture {
    Map<String, Tensor> values(ModelGraph model, Set<String> names) throws CompressionException;
  }

  private static List<LayerError> measure(
      ModelGraph original, ModelGraph compressed, Capture capture) throws CompressionException {
    Graph go = original.graph();
    Graph gc = compressed.graph();
    List<LinearLayer> layers = LinearLayers.of(go);
    Set<String> producedC = new HashSet<>();
    gc.nodes().forEach(n -> producedC.addAll(n.outputs()));
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
      Map<String, Tensor> yo = capture.values(original, byOutput.keySet());
      Map<String, Tensor> yc = capture.values(compressed, byOutput.keySet());
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

  /** Each value as an input of its first consumer, or as a graph output. */
  private static Map<String, Tensor> capture(
      ModelGraph model, Set<String> values, Executor exec, Map<String, Tensor> inputs)
      throws CompressionException {
    Graph g = model.graph();
    Map<String, List<dev.compress.api.graph.Node>> consumers = g.consumerIndex();
    Set<String> nodes = new java.util.LinkedHashSet<>();
    for (String v : values) {
      List<dev.compress.api.graph.Node> c = consumers.getOrDefault(v, List.of());
      if (!c.isEmpty() && !c.get(0).name().isEmpty()) {
        nodes.add(c.get(0).name());
      }
    }
    Map<String, Tensor> feed = new LinkedHashMap<>();
    for (String name : exec.inputNames()) {
      feed.put(name, inputs.get(name));
    }
    dev.compress.runtime.ForwardResult r = exec.forward(feed, nodes);
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (List<Tensor> in : r.captured().values()) {
      for (Tensor t : in) {
        if (values.contains(t.name())) {
          out.putIfAbsent(t.name(), t);
        }
      }
    }
    for (Map.Entry<String, Tensor> e : r.outputs().entrySet()) {
      if (values.contains(e.getKey())) {
        out.putIfAbsent(e.getKey(), e.getValue());
      }
    }
    for (String v : values) {
      if (!out.containsKey(v)) {
        throw new CompressionException(
            "per-layer capture: value '"
                + v
                + "' was not recorded by "
                + exec.getClass().getSimpleName());
      }
    }
    return out;
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
