package dev.compress.evaluation.sensitivity;

import dev.compress.api.CompressionException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The executors the probes' passes calibrate on, sharing the float model's activations between
 * probes. Every probe starts from a copy of the same float model and changes only its unit, so what
 * a calibrated pass captures before it changes anything (the input of its layer on the calibration
 * batches) is the same for every probe of that layer, and for the layers that read the same value
 * (q, k, v).
 *
 * <p>A value is served from the cache only when that is exact: the executor's graph is
 * <i>pristine</i> (every node is a node of the original graph with the same operator, inputs,
 * outputs and attribute values, every initializer is the original's tensor object, no subgraphs),
 * and it is fed the calibration set's own batch tensors (by identity). Such a graph computes every
 * value exactly as the original does on that batch, so a value recorded once (a graph output or a
 * captured node input, by value name and batch) is that value. Anything else runs on the real
 * engine. Entries are evicted least-recently-used beyond a byte budget (a quarter of the maximum
 * heap): the analysis visits units in graph order, so the layers sharing an input are probed one
 * after another.
 */
final class CachingExecutors implements ExecutorFactory {
  private final ExecutorFactory inner;
  private final Map<String, Node> nodes = new HashMap<>();
  private final Map<String, Tensor> initializers;
  private final IdentityHashMap<Tensor, Integer> batchTensors = new IdentityHashMap<>();
  private final LinkedHashMap<String, Tensor> cache = new LinkedHashMap<>(64, 0.75f, true);
  private final long budget = Runtime.getRuntime().maxMemory() / 4;
  private long bytes;
  private long hits;
  private long misses;

  CachingExecutors(ExecutorFactory inner, ModelGraph original, Optional<CalibrationSet> cal) {
    this.inner = inner;
    for (Node n : original.graph().nodes()) {
      nodes.put(n.name(), n);
    }
    this.initializers = Map.copyOf(original.graph().initializers());
    cal.ifPresent(
        c -> {
          for (Map<String, Tensor> b : c.batches()) {
            for (Tensor t : b.values()) {
              batchTensors.putIfAbsent(t, batchTensors.size());
            }
          }
        });
  }

  /** Values served from the cache. */
  synchronized long hits() {
    return hits;
  }

  /** Forward calls that ran on the engine (a pristine graph's, or any other). */
  synchronized long misses() {
    return misses;
  }

  @Override
  public String engine() {
    return inner.engine();
  }

  @Override
  public boolean supportsCapture() {
    return inner.supportsCapture();
  }

  @Override
  public boolean available(Device device) {
    return inner.available(device);
  }

  @Override
  public Executor create(ModelGraph model, Device device) throws CompressionException {
    if (!pristine(model.graph())) {
      return inner.create(model, device);
    }
    return new Cached(model, device);
  }

  private boolean pristine(Graph g) {
    for (Map.Entry<String, Tensor> e : g.initializers().entrySet()) {
      if (initializers.get(e.getKey()) != e.getValue()) {
        return false;
      }
    }
    for (Node n : g.nodes()) {
      Node o = nodes.get(n.name());
      if (o == null
          || !n.subgraphs().isEmpty()
          || !o.opType().equals(n.opType())
          || !o.domain().equals(n.domain())
          || !o.inputs().equals(n.inputs())
          || !o.outputs().equals(n.outputs())
          || !sameAttributes(o, n)) {
        return false;
      }
    }
    return true;
  }

  private static boolean sameAttributes(Node a, Node b) {
    if (!a.attributes().keySet().equals(b.attributes().keySet())) {
      return false;
    }
    for (Attribute x : a.attributes().values()) {
      Attribute y = b.attributes().get(x.name());
      if (x.type() != y.type() || !Objects.deepEquals(x.value(), y.value())) {
        return false;
      }
    }
    return true;
  }

  /** The batch key of a feed made only of calibration tensors, else null. */
  private String batchKey(Map<String, Tensor> inputs) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Tensor> e : new java.util.TreeMap<>(inputs).entrySet()) {
      Integer id = batchTensors.get(e.getValue());
      if (id == null) {
        return null;
      }
      sb.append(e.getKey()).append('#').append(id).append(';');
    }
    return sb.toString();
  }

  private synchronized Tensor get(String key) {
    return cache.get(key);
  }

  private synchronized void put(String key, Tensor t) {
    long size = t.byteSize();
    if (size > budget) {
      return;
    }
    Tensor old = cache.put(key, t);
    if (old != null) {
      bytes -= old.byteSize();
    }
    bytes += size;
    var it = cache.entrySet().iterator();
    while (bytes > budget && it.hasNext()) {
      bytes -= it.next().getValue().byteSize();
      it.remove();
    }
  }

  private synchronized void count(boolean hit) {
    if (hit) {
      hits++;
    } else {
      misses++;
    }
  }

  /** An executor over a pristine graph: cached values, else the engine (created when needed). */
  private final class Cached implements Executor {
    private final ModelGraph model;
    private final Device device;
    private final List<String> inputNames;
    private final List<String> outputNames;
    private final Set<String> constants = new HashSet<>();
    private Executor real;
    private boolean closed;

    Cached(ModelGraph model, Device device) {
      this.model = model;
      this.device = device;
      Graph g = model.graph();
      this.inputNames = g.feedInputs().stream().map(ValueInfo::name).toList();
      this.outputNames = g.outputs().stream().map(ValueInfo::name).toList();
      constants.addAll(g.initializers().keySet());
      for (Node n : g.nodes()) {
        if (n.opType().equals("Constant") && n.domain().isEmpty()) {
          constants.addAll(n.outputs());
        }
      }
    }

    private synchronized Executor real() throws CompressionException {
      if (closed) {
        throw new IllegalStateException("executor is closed");
      }
      if (real == null) {
        real = inner.create(model, device);
      }
      return real;
    }

    /** The runtime inputs of a node, as {@link ForwardResult#captured()} lists them. */
    private List<String> runtimeInputs(String node) {
      Node n = nodes.get(node);
      List<String> out = new ArrayList<>();
      if (n != null) {
        for (String v : n.inputs()) {
          if (!v.isEmpty() && !constants.contains(v)) {
            out.add(v);
          }
        }
      }
      return out;
    }

    @Override
    public List<String> inputNames() {
      return inputNames;
    }

    @Override
    public List<String> outputNames() {
      return outputNames;
    }

    @Override
    public Device device() {
      return device;
    }

    @Override
    public boolean supportsCapture() {
      return true;
    }

    @Override
    public ForwardResult forward(Map<String, Tensor> inputs, Set<String> captureNodes)
        throws CompressionException {
      synchronized (this) {
        if (closed) {
          throw new IllegalStateException("executor is closed");
        }
      }
      String batch = batchKey(inputs);
      if (batch == null || !inputs.keySet().containsAll(inputNames)) {
        count(false);
        return real().forward(inputs, captureNodes);
      }
      Map<String, Tensor> outs = new LinkedHashMap<>();
      Map<String, List<Tensor>> captured = new LinkedHashMap<>();
      boolean all = true;
      List<String> missing = new ArrayList<>();
      for (String o : outputNames) {
        Tensor t = get(batch + o);
        if (t == null) {
          missing.add(o);
        }
        outs.put(o, t);
      }
      for (String c : captureNodes) {
        if (!nodes.containsKey(c)) {
          all = false;
          break;
        }
        List<Tensor> in = new ArrayList<>();
        for (String v : runtimeInputs(c)) {
          Tensor t = get(batch + v);
          if (t == null) {
            all = false;
            break;
          }
          in.add(t);
        }
        captured.put(c, in);
      }
      if (all && !missing.isEmpty()) {
        // The captures are known; the outputs (the captured layers' own outputs, for a
        // calibration slice) are computed from cached values by the few nodes that make them.
        Map<String, Tensor> computed = fromCache(batch, inputs, missing);
        if (computed == null) {
          all = false;
        } else {
          computed.forEach((k, v) -> put(batch + k, v));
          computed.forEach(outs::put);
        }
      }
      if (all) {
        count(true);
        return new ForwardResult(outs, captured);
      }
      count(false);
      ForwardResult r = real().forward(inputs, captureNodes);
      r.outputs().forEach((k, v) -> put(batch + k, v));
      for (Map.Entry<String, List<Tensor>> e : r.captured().entrySet()) {
        List<String> names = runtimeInputs(e.getKey());
        if (names.size() == e.getValue().size()) {
          for (int i = 0; i < names.size(); i++) {
            put(batch + names.get(i), e.getValue().get(i));
          }
        }
      }
      return r;
    }

    /**
     * {@code wanted} values computed by the nodes between them and values that are cached or fed
     * (leaves), run on the engine; null when some value they need is neither.
     */
    private Map<String, Tensor> fromCache(
        String batch, Map<String, Tensor> inputs, List<String> wanted) throws CompressionException {
      Graph g = model.graph();
      Set<String> need = new HashSet<>(wanted);
      Map<String, Tensor> leaves = new LinkedHashMap<>();
      List<Node> keep = new ArrayList<>();
      List<Node> all = g.nodes();
      for (int i = all.size() - 1; i >= 0; i--) {
        Node n = all.get(i);
        if (n.outputs().stream().noneMatch(need::contains)) {
          continue;
        }
        keep.add(0, n);
        n.outputs().forEach(need::remove);
        for (String v : n.inputs()) {
          if (v.isEmpty() || g.initializers().containsKey(v) || leaves.containsKey(v)) {
            continue;
          }
          Tensor t = get(batch + v);
          if (t == null) {
            t = inputs.get(v);
          }
          if (t != null) {
            leaves.put(v, t);
          } else {
            need.add(v);
          }
        }
      }
      if (!need.isEmpty()) {
        return null;
      }
      Graph t = new Graph(g.name());
      t.nodes().addAll(keep);
      Set<String> read = new HashSet<>();
      keep.forEach(n -> read.addAll(n.inputs()));
      for (Tensor init : g.initializers().values()) {
        if (read.contains(init.name())) {
          t.putInitializer(init);
        }
      }
      leaves.forEach((v, x) -> t.inputs().add(ValueInfo.tensor(v, x.dtype(), null)));
      wanted.forEach(o -> t.outputs().add(ValueInfo.tensor(o, DataType.FLOAT, null)));
      ModelGraph m = new ModelGraph(model.irVersion(), t);
      m.opsetImports().putAll(model.opsetImports());
      try (Executor ex = inner.create(m, device)) {
        return new LinkedHashMap<>(ex.forward(leaves));
      }
    }

    @Override
    public synchronized void close() {
      closed = true;
      if (real != null) {
        real.close();
        real = null;
      }
    }
  }
}
