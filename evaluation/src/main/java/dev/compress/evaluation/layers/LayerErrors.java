package dev.compress.evaluation.layers;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.ort.OrtExecutor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Per-layer error of a compressed model against its original, for each linear layer (MatMul, Gemm,
 * Conv with a constant weight) of the original, in one or both {@link Mode modes}:
 *
 * <ul>
 *   <li><b>{@link Mode#ACCUMULATED}</b>: both whole networks run on the same inputs and each
 *       layer's output in the compressed network is compared with the original's: the error
 *       reaching that point, including what earlier layers passed on.
 *   <li><b>{@link Mode#ISOLATED}</b>: each compressed layer (the nodes of the compressed graph
 *       between the layer's input and output values: a {@code DequantizeLinear} and the MatMul, a
 *       {@code MatMulNBits}, a dynamic-quantization chain, the two factors of a low-rank split) is
 *       fed the original network's input to that layer: its own error with everything before it
 *       float. Run in ONNX Runtime, one small session per layer. A layer whose compressed nodes
 *       need another value than its input, or whose input the compressed model computes differently
 *       (scales folded into the producer by SmoothQuant or AWQ, a changed shape after structured
 *       pruning), is left out with a note.
 * </ul>
 *
 * How the layer output is compared ({@link Method}):
 *
 * <ul>
 *   <li><b>{@link Method#ACTIVATION}</b>, when the compressed graph still produces the layer's
 *       output value (quantization passes keep value names: a {@code DequantizeLinear} feeds the
 *       same MatMul, a {@code MatMulNBits} keeps its name and output, a Gemm's bias Add writes the
 *       old output): {@code ||y_c - y_o|| / ||y_o||} over all elements of all inputs.
 *   <li><b>{@link Method#WEIGHT}</b>, when the output value is gone but a float weight of the same
 *       name and shape is still there (e.g. pruned in place): {@code ||W_c - W_o|| / ||W_o||}, the
 *       same in both modes.
 * </ul>
 *
 * Layers with neither are left out. The whole networks' activations are captured by the DJL
 * interpreter when both models are open in it (each layer output recorded as an input of its first
 * consumer, or taken from the graph outputs), and otherwise by ONNX Runtime with the values exposed
 * as extra graph outputs; ONNX Runtime runs every model the toolkit writes, quantized operators
 * included.
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

  /** Through which network a layer's output is compared. */
  public enum Mode {
    /** Through the compressed network: the error reaching the layer, earlier layers' included. */
    ACCUMULATED("accumulated"),
    /** The compressed layer alone, fed the original's input: the rest of the network float. */
    ISOLATED("isolated");

    private final String id;

    Mode(String id) {
      this.id = id;
    }

    /** The name in options, configs and reports. */
    public String id() {
      return id;
    }

    /**
     * {@code accumulated}, {@code isolated} or {@code both} (both, accumulated first).
     *
     * @param key the option or config key, for the message
     * @throws ConfigException naming {@code key} and the value for anything else
     */
    public static List<Mode> parse(String value, String key) throws ConfigException {
      String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
      return switch (v) {
        case "accumulated" -> List.of(ACCUMULATED);
        case "isolated" -> List.of(ISOLATED);
        case "both" -> List.of(ACCUMULATED, ISOLATED);
        default ->
            throw new ConfigException(
                key + " must be one of [accumulated, isolated, both], found '" + value + "'");
      };
    }
  }

  /**
   * One layer's error.
   *
   * @param layer the layer (node) name in the original
   * @param mode through which network the output was compared
   * @param method how it was measured
   * @param relativeError {@code ||c - o|| / ||o||}
   */
  public record LayerError(String layer, Mode mode, Method method, double relativeError) {
    /** An accumulated error. */
    public LayerError(String layer, Method method, double relativeError) {
      this(layer, Mode.ACCUMULATED, method, relativeError);
    }
  }

  /**
   * What {@link #measure(ModelGraph, ModelGraph, Executor, Executor, List, List, int)} found.
   *
   * @param errors per mode (in the order asked), every measured layer in the original's order
   * @param notes layers left out of a mode and why, one line each
   */
  public record Result(List<LayerError> errors, List<String> notes) {
    /** Copies the lists. */
    public Result {
      errors = List.copyOf(errors);
      notes = List.copyOf(notes);
    }

    /** The errors of one mode. */
    public List<LayerError> of(Mode mode) {
      return errors.stream().filter(e -> e.mode() == mode).toList();
    }
  }

  /**
   * Accumulated errors of every linear layer of {@code original} in {@code compressed}, capturing
   * activations with executors that can capture ({@link Executor#supportsCapture()}, the DJL
   * interpreter) already open on both models.
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
            originalExec,
            compressedExec,
            List.of(inputs),
            List.of(Mode.ACCUMULATED),
            1)
        .errors();
  }

  /**
   * Accumulated errors of every linear layer of {@code original} in {@code compressed}, capturing
   * activations by running both in ONNX Runtime with the layer outputs exposed as graph outputs.
   *
   * @param inputs fed to both models (names of the original's inputs)
   * @param threads ONNX Runtime intra-op threads
   */
  public static List<LayerError> measure(
      ModelGraph original, ModelGraph compressed, Map<String, Tensor> inputs, int threads)
      throws CompressionException {
    return measure(
            original, compressed, null, null, List.of(inputs), List.of(Mode.ACCUMULATED), threads)
        .errors();
  }

  /**
   * Errors of every linear layer of {@code original} in {@code compressed} in each of {@code
   * modes}, summed over all {@code batches}.
   *
   * @param originalExec, compressedExec executors open on the two models; when both can capture
   *     (DJL) they record the whole networks' activations, otherwise (or when null) ONNX Runtime
   *     does
   * @param batches inputs fed to both models, one map per forward call (names of the original's
   *     inputs)
   * @param modes which errors to measure (at least one)
   * @param threads ONNX Runtime intra-op threads
   */
  public static Result measure(
      ModelGraph original,
      ModelGraph compressed,
      Executor originalExec,
      Executor compressedExec,
      List<Map<String, Tensor>> batches,
      List<Mode> modes,
      int threads)
      throws CompressionException {
    if (modes.isEmpty() || batches.isEmpty()) {
      throw new IllegalArgumentException("at least one mode and one batch are required");
    }
    boolean accumulated = modes.contains(Mode.ACCUMULATED);
    boolean isolated = modes.contains(Mode.ISOLATED);
    boolean djl =
        originalExec != null
            && compressedExec != null
            && originalExec.supportsCapture()
            && compressedExec.supportsCapture();
    Graph go = original.graph();
    Graph gc = compressed.graph();
    List<LinearLayer> layers = LinearLayers.of(go);
    Set<String> producedC = new HashSet<>();
    gc.nodes().forEach(n -> producedC.addAll(n.outputs()));
    Set<String> feedsC = new HashSet<>();
    gc.feedInputs().forEach(v -> feedsC.add(v.name()));
    List<LinearLayer> active = new ArrayList<>();
    Map<String, LayerError> weights = new LinkedHashMap<>(); // layer -> weight error
    for (LinearLayer l : layers) {
      if (producedC.contains(l.output())) {
        active.add(l);
      } else {
        weightError(l, go, gc).ifPresent(e -> weights.put(l.name(), e));
      }
    }
    Set<String> valuesO = new LinkedHashSet<>();
    Set<String> valuesC = new LinkedHashSet<>();
    for (LinearLayer l : active) {
      valuesO.add(l.output());
      if (isolated) {
        valuesO.add(l.input());
      }
      valuesC.add(l.output());
    }
    int n = active.size();
    double[] numA = new double[n];
    double[] denA = new double[n];
    double[] numI = new double[n];
    double[] denI = new double[n];
    List<String> notes = new ArrayList<>();
    Map<Integer, String> notIsolated = new LinkedHashMap<>(); // layer index -> reason
    Map<Integer, Executor> slices = new LinkedHashMap<>();
    Capture captureO = null;
    Capture captureC = null;
    try {
      captureO =
          n == 0
              ? null
              : djl
                  ? new DjlCapture(go, valuesO, originalExec)
                  : new OrtCapture(original, valuesO, threads);
      captureC =
          n == 0 || !accumulated
              ? null
              : djl
                  ? new DjlCapture(gc, valuesC, compressedExec)
                  : new OrtCapture(compressed, valuesC, threads);
      boolean first = true;
      for (Map<String, Tensor> batch : batches) {
        if (n == 0) {
          break;
        }
        Map<String, Tensor> yo = captureO.values(batch);
        if (accumulated) {
          Map<String, Tensor> yc = captureC.values(batch);
          for (int i = 0; i < n; i++) {
            String v = active.get(i).output();
            accumulate(numA, denA, i, yo.get(v), yc.get(v));
          }
        }
        if (isolated) {
          if (first) {
            for (int i = 0; i < n; i++) {
              LinearLayer l = active.get(i);
              if (!producedC.contains(l.input()) && !feedsC.contains(l.input())) {
                notIsolated.put(i, "its input '" + l.input() + "' is not in the compressed graph");
                continue;
              }
              if (yo.get(l.input()) == null || yo.get(l.output()) == null) {
                notIsolated.put(i, "its input or output was not recorded in the original");
                continue;
              }
              String[] why = new String[1];
              Optional<ModelGraph> s =
                  slice(
                      compressed,
                      go,
                      l,
                      yo.get(l.input()).dtype(),
                      yo.get(l.output()).dtype(),
                      why);
              if (s.isEmpty()) {
                notIsolated.put(i, why[0]);
                continue;
              }
              try {
                slices.put(
                    i, OrtExecutor.builder().setModel(s.get()).optIntraOpThreads(threads).build());
              } catch (CompressionException e) {
                notIsolated.put(i, "ONNX Runtime refused its nodes alone: " + e.getMessage());
              }
            }
          }
          for (Map.Entry<Integer, Executor> e : List.copyOf(slices.entrySet())) {
            int i = e.getKey();
            LinearLayer l = active.get(i);
            try {
              Map<String, Tensor> out = e.getValue().forward(Map.of(l.input(), yo.get(l.input())));
              Tensor y = out.get(l.output());
              if (y == null || y.elementCount() != yo.get(l.output()).elementCount()) {
                throw new CompressionException(
                    "its output has shape "
                        + (y == null ? "(none)" : y.shapeString())
                        + ", the original's "
                        + yo.get(l.output()).shapeString());
              }
              accumulate(numI, denI, i, yo.get(l.output()), y);
            } catch (CompressionException | RuntimeException x) {
              // e.g. structured pruning: the original's input no longer fits the layer.
              notIsolated.put(i, "it cannot take the original's input: " + x.getMessage());
              slices.remove(i).close();
            }
          }
        }
        first = false;
      }
    } finally {
      for (Executor e : slices.values()) {
        e.close();
      }
      if (captureO != null) {
        captureO.close();
      }
      if (captureC != null) {
        captureC.close();
      }
    }
    List<LayerError> out = new ArrayList<>();
    for (Mode m : modes) {
      for (LinearLayer l : layers) {
        LayerError w = weights.get(l.name());
        if (w != null) {
          out.add(new LayerError(l.name(), m, Method.WEIGHT, w.relativeError()));
          continue;
        }
        int i = active.indexOf(l);
        if (i < 0) {
          continue;
        }
        if (m == Mode.ACCUMULATED) {
          out.add(new LayerError(l.name(), m, Method.ACTIVATION, ratio(numA[i], denA[i])));
        } else if (!notIsolated.containsKey(i)) {
          out.add(new LayerError(l.name(), m, Method.ACTIVATION, ratio(numI[i], denI[i])));
        }
      }
    }
    if (!notIsolated.isEmpty()) {
      Map.Entry<Integer, String> firstReason = notIsolated.entrySet().iterator().next();
      notes.add(
          "isolated: "
              + notIsolated.size()
              + " of "
              + n
              + " layers not measured alone (first, "
              + active.get(firstReason.getKey()).name()
              + ": "
              + firstReason.getValue()
              + ")");
    }
    return new Result(out, notes);
  }

  private static void accumulate(double[] num, double[] den, int i, Tensor o, Tensor c) {
    float[] a = o.toFloatArray();
    float[] b = c.toFloatArray();
    if (a.length != b.length) {
      throw new IllegalArgumentException("sizes differ: " + a.length + " vs " + b.length);
    }
    for (int k = 0; k < a.length; k++) {
      double d = (double) b[k] - a[k];
      num[i] += d * d;
      den[i] += (double) a[k] * a[k];
    }
  }

  private static double ratio(double num, double den) {
    return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
  }

  private static Optional<LayerError> weightError(LinearLayer l, Graph go, Graph gc) {
    Tensor wo = go.initializers().get(l.weight());
    Tensor wc = gc.initializers().get(l.weight());
    if (wo == null
        || wc == null
        || wo.dtype() != DataType.FLOAT
        || wc.dtype() != DataType.FLOAT
        || !Arrays.equals(wo.shape(), wc.shape())) {
      return Optional.empty();
    }
    return Optional.of(
        new LayerError(l.name(), Method.WEIGHT, relative(wo.toFloatArray(), wc.toFloatArray())));
  }

  /**
   * The nodes of {@code compressed} computing layer {@code l}'s output from its input alone, as a
   * model with that one input and output; empty (with the reason in {@code why[0]}) when they need
   * another non-constant value, cross control flow, or read an input the compressed model computes
   * differently from the original (a rescaled producer).
   */
  static Optional<ModelGraph> slice(
      ModelGraph compressed,
      Graph original,
      LinearLayer l,
      DataType inType,
      DataType outType,
      String[] why) {
    Graph g = compressed.graph();
    String x = l.input();
    if (!sameProducer(original, g, x)) {
      why[0] =
          "its input '"
              + x
              + "' is computed differently in the compressed model (scales folded into its"
              + " producer?)";
      return Optional.empty();
    }
    GraphIndex producers = GraphIndex.of(g);
    Set<Node> included = Collections.newSetFromMap(new IdentityHashMap<>());
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(l.output()));
    boolean reachesX = false;
    while (!todo.isEmpty()) {
      String v = todo.pop();
      if (v.isEmpty() || !seen.add(v)) {
        continue;
      }
      if (v.equals(x)) {
        reachesX = true;
        continue;
      }
      if (g.initializers().containsKey(v)) {
        continue;
      }
      Node p = producers.producer(v).orElse(null);
      if (p == null) {
        why[0] = "its compressed nodes also read '" + v + "', not only the layer input";
        return Optional.empty();
      }
      for (Attribute a : p.attributes().values()) {
        if (a.type() == Attribute.Type.GRAPH || a.type() == Attribute.Type.GRAPHS) {
          why[0] = "its compressed nodes include control flow (" + p.opType() + ")";
          return Optional.empty();
        }
      }
      if (included.add(p)) {
        p.inputs().forEach(todo::push);
      }
    }
    if (!reachesX) {
      why[0] = "its output does not depend on its input '" + x + "' in the compressed graph";
      return Optional.empty();
    }
    Graph s = new Graph("isolated " + l.name());
    s.inputs().add(ValueInfo.tensor(x, inType, null));
    s.outputs().add(ValueInfo.tensor(l.output(), outType, null));
    for (Node n : g.nodes()) {
      if (!included.contains(n)) {
        continue;
      }
      Node c = new Node(n.name(), n.opType(), n.domain(), n.inputs(), n.outputs());
      n.attributes().values().forEach(c::put);
      s.nodes().add(c);
      for (String in : n.inputs()) {
        Tensor t = g.initializers().get(in);
        if (t != null) {
          s.putInitializer(t);
        }
      }
    }
    ModelGraph m = new ModelGraph(compressed.irVersion(), s);
    m.opsetImports().putAll(compressed.opsetImports());
    return Optional.of(m);
  }

  /**
   * Whether {@code value} is computed by an equal node in both graphs: both graph inputs, or
   * producers of the same operator, attributes and inputs whose constant inputs hold equal values.
   * A producer that differs (a LayerNorm whose scale SmoothQuant divided, a linear layer's output
   * rows AWQ rescaled or a pass compressed) means the compressed layer expects a different input.
   */
  private static boolean sameProducer(Graph go, Graph gc, String value) {
    Optional<Node> po = GraphIndex.of(go).producer(value);
    Optional<Node> pc = GraphIndex.of(gc).producer(value);
    if (po.isEmpty() || pc.isEmpty()) {
      return po.isEmpty() && pc.isEmpty();
    }
    Node a = po.get();
    Node b = pc.get();
    if (!a.qualifiedOpType().equals(b.qualifiedOpType())
        || !a.inputs().equals(b.inputs())
        || !a.attributes().keySet().equals(b.attributes().keySet())) {
      return false;
    }
    for (String in : a.inputs()) {
      Tensor ta = go.initializers().get(in);
      Tensor tb = gc.initializers().get(in);
      if ((ta == null) != (tb == null)) {
        return false;
      }
      if (ta != null
          && (ta.dtype() != tb.dtype()
              || !Arrays.equals(ta.shape(), tb.shape())
              || !(ta.dtype() == DataType.STRING
                  ? ta.strings().equals(tb.strings())
                  : ta.data().equals(tb.data())))) {
        return false;
      }
    }
    return true;
  }

  /** Values of a whole model, by name, for one batch of inputs. */
  private interface Capture extends AutoCloseable {
    Map<String, Tensor> values(Map<String, Tensor> inputs) throws CompressionException;

    @Override
    void close();
  }

  /** Each value as an input of its first consumer (DJL), or as a graph output. */
  private record DjlCapture(Graph g, Set<String> values, Executor exec) implements Capture {
    @Override
    public Map<String, Tensor> values(Map<String, Tensor> inputs) throws CompressionException {
      GraphIndex consumers = GraphIndex.of(g);
      Set<String> nodes = new LinkedHashSet<>();
      for (String v : values) {
        List<Node> c = consumers.consumers(v);
        if (!c.isEmpty() && !c.get(0).name().isEmpty()) {
          nodes.add(c.get(0).name());
        }
      }
      Map<String, Tensor> feed = new LinkedHashMap<>();
      for (String name : exec.inputNames()) {
        feed.put(name, inputs.get(name));
      }
      ForwardResult r = exec.forward(feed, nodes);
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
        if (!out.containsKey(v) && inputs.containsKey(v)) {
          out.put(v, inputs.get(v));
        }
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

    @Override
    public void close() {}
  }

  /** ONNX Runtime with the values exposed as extra graph outputs (graph inputs taken as fed). */
  private static final class OrtCapture implements Capture {
    private final Set<String> values;
    private final OrtExecutor ort;

    OrtCapture(ModelGraph model, Set<String> values, int threads) throws CompressionException {
      this.values = values;
      Graph g = model.graph();
      Set<String> present = new HashSet<>();
      g.outputs().forEach(v -> present.add(v.name()));
      g.inputs().forEach(v -> present.add(v.name()));
      List<ValueInfo> saved = new ArrayList<>(g.outputs());
      try {
        for (String v : values) {
          if (!present.contains(v)) {
            g.outputs().add(ValueInfo.tensor(v, DataType.FLOAT, null));
          }
        }
        this.ort = OrtExecutor.builder().setModel(model).optIntraOpThreads(threads).build();
      } finally {
        g.outputs().clear();
        g.outputs().addAll(saved);
      }
    }

    @Override
    public Map<String, Tensor> values(Map<String, Tensor> inputs) throws CompressionException {
      Map<String, Tensor> feed = new LinkedHashMap<>();
      for (String name : ort.inputNames()) {
        feed.put(name, inputs.get(name));
      }
      Map<String, Tensor> out = new LinkedHashMap<>(ort.forward(feed));
      for (String v : values) {
        if (!out.containsKey(v) && inputs.containsKey(v)) {
          out.put(v, inputs.get(v));
        }
      }
      return out;
    }

    @Override
    public void close() {
      ort.close();
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
