package dev.compress.runtime.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Interprets a model graph node by node with DJL NDArrays on the PyTorch engine, on the CPU or on a
 * GPU that DJL reports. This is the executor for calibration (it can record the inputs of any node)
 * and for evaluation.
 *
 * <p>Lifecycle (see {@link Executor}): {@link #builder()}{@code .setModel(m).build()} checks every
 * node against the operator kernels (all unsupported nodes are reported at once, each by operator
 * type with its domain and by node name), folds {@code Constant} nodes, and copies every used
 * initializer once into engine memory owned by the executor's root {@code NDManager} (memory-mapped
 * weights are copied, never aliased). Each {@code forward} works in a child manager closed before
 * it returns; weights enter a call as per-call views, and each node's temporaries are released as
 * soon as the node has run, values after their last use. So the root manager holds exactly the
 * weights between calls, and native memory does not grow with the number of calls. {@link #close()}
 * frees the weights.
 *
 * <p>Numerics follow ONNX semantics per imported opset (Softmax's axis, Squeeze/Unsqueeze/Reduce
 * axes as attributes or inputs, ...); integer tensors stay integer, so shape arithmetic is exact.
 * Integer {@code Div} goes through float64 and is exact for magnitudes below 2^53. Threads:
 * PyTorch's intra-op thread pool is process-wide (DJL sets it from the number of cores). Opt-in:
 * with {@code -Dcompress.djl.torchThreadsWithKernels=N}, PyTorch is limited to N threads from the
 * first quantized layer of a forward that runs on the project's kernels (CPU) to the end of that
 * forward, so that its spinning OpenMP workers leave the cores to the kernel pool; see {@link
 * TorchThreads} for what it gains and why it is off by default.
 */
public final class DjlExecutor implements Executor {
  private static final String ENGINE = "PyTorch";

  /** A compiled node: kernel plus value slots; {@code release} are slots dead after it. */
  private record Step(
      OpNode op, Kernel kernel, List<String> inNames, int[] in, int[] out, int[] release) {}

  private final Device device;
  private final NDManager root;
  private final List<Step> steps;
  private final NDArray[] constants; // by slot; null where the slot is not constant
  private final int slotCount;
  private final Map<String, Integer> valueSlots; // value name -> slot
  private final Map<String, Integer> feedSlots; // name -> slot, in graph order
  private final Map<String, ValueInfo> feedTypes;
  private final List<String> outputNames;
  private final int[] outputSlots;
  private final Map<String, Integer> stepOfNode; // node name -> step index, -1 for folded constants
  private final Map<String, Integer> fusedKernels; // kind -> number of fused quantized layers
  private final int torchThreads; // PyTorch intra-op threads during forward, 0: unchanged
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Builder: {@code setModel} is required, {@code optDevice} defaults to {@link Device#CPU}. */
  public static final class Builder {
    private ModelGraph model;
    private Device device = Device.CPU;
    private boolean quantizedKernels = true;

    private Builder() {}

    /**
     * Whether quantized linear layers run on the project's kernels (default true): {@code
     * MatMulNBits}, {@code MatMul/Gemm(X, DequantizeLinear(W int8))}, and the W8A8 patterns (see
     * {@link #fusedKernels()}); on a GPU only {@code MatMulNBits} does. With false, every node runs
     * as its own ONNX operator. A node absorbed into a fused kernel is still capturable: its
     * capture records the fused step's activation inputs; build with false to capture each
     * quantized node's own inputs.
     */
    public Builder optQuantizedKernels(boolean enabled) {
      this.quantizedKernels = enabled;
      return this;
    }

    /** The model to run (required). The executor snapshots it. */
    public Builder setModel(ModelGraph model) {
      this.model = Objects.requireNonNull(model, "model");
      return this;
    }

    /** The device; {@link Device#GPU} requires a GPU that DJL's PyTorch engine reports. */
    public Builder optDevice(Device device) {
      this.device = Objects.requireNonNull(device, "device");
      return this;
    }

    /**
     * Compiles the graph and loads the weights.
     *
     * @throws UnsupportedModelException listing every node (operator and name) or initializer the
     *     interpreter cannot handle
     * @throws ConfigException when a GPU is requested and none is available
     */
    public DjlExecutor build() throws CompressionException {
      if (model == null) {
        throw new IllegalStateException("setModel(...) is required");
      }
      return new DjlExecutor(model, device, quantizedKernels);
    }
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Shorthand for {@code builder().setModel(model).build()} on the CPU. */
  public static DjlExecutor create(ModelGraph model) throws CompressionException {
    return builder().setModel(model).build();
  }

  /** Operators the interpreter can run, as {@code Op} or {@code domain::Op}, sorted. */
  public static Set<String> supportedOps() {
    return OpRegistry.names();
  }

  /**
   * PyTorch's intra-op threads from the first quantized layer of a forward that runs on the
   * project's kernels to the end of that forward (system property {@code
   * compress.djl.torchThreadsWithKernels}; 0, the default: PyTorch's setting is left alone).
   *
   * @throws IllegalArgumentException naming the property when it is not an integer >= 0
   */
  public static int torchThreadsWithKernels() {
    return TorchThreads.configured();
  }

  /** Whether DJL's PyTorch engine reports at least one GPU. */
  public static boolean gpuAvailable() {
    return Engine.getEngine(ENGINE).getGpuCount() > 0;
  }

  /**
   * The CUDA flavor of the libtorch builds DJL's PyTorch JNI is built against for this PyTorch
   * version (pytorch-jni carries {@code jnilib/linux-x86_64/cu128}); the native jar of that flavor
   * is {@code ai.djl.pytorch:pytorch-native-cu128}.
   */
  public static final String CUDA_FLAVOR = "cu128";

  /**
   * Why a GPU cannot be used, naming what DJL loaded and what to give it instead: the build carries
   * the CPU libtorch ({@code pytorch-native-cpu}); the CUDA one is not on Maven Central.
   */
  public static String noGpuMessage() {
    String version;
    String loaded;
    try {
      version = Engine.getEngine(ENGINE).getVersion();
      loaded = ai.djl.pytorch.jni.LibUtils.getLibtorchPath();
    } catch (RuntimeException e) {
      version = "?";
      loaded = "?";
    }
    return "device gpu: DJL's PyTorch engine reports no GPU (it loaded libtorch from "
        + loaded
        + "); HINT: on a machine with an NVIDIA GPU give DJL a CUDA build of PyTorch "
        + version
        + ": set PYTORCH_LIBRARY_PATH to its lib folder, or build with -Pgpu"
        + " -Dpytorch.native.artifactId=pytorch-native-"
        + CUDA_FLAVOR
        + " with that jar (ai.djl.pytorch:pytorch-native-"
        + CUDA_FLAVOR
        + ":"
        + version
        + ":linux-x86_64) in your repository (README, GPU); or use --device cpu";
  }

  private DjlExecutor(ModelGraph model, Device device, boolean quantizedKernels)
      throws CompressionException {
    this.device = device;
    Graph g = model.graph();
    ai.djl.Device djlDevice;
    if (device == Device.GPU) {
      if (!gpuAvailable()) {
        throw new ConfigException(noGpuMessage());
      }
      djlDevice = ai.djl.Device.gpu();
    } else {
      djlDevice = ai.djl.Device.cpu();
    }

    // Slots: one per value name.
    Map<String, Integer> slots = new HashMap<>();
    List<String> problems = new ArrayList<>();
    feedSlots = new LinkedHashMap<>();
    feedTypes = new HashMap<>();
    for (ValueInfo in : g.inputs()) {
      feedTypes.put(in.name(), in);
      if (!g.initializers().containsKey(in.name())) {
        feedSlots.put(in.name(), slots.computeIfAbsent(in.name(), k -> slots.size()));
      }
    }
    Map<Integer, Tensor> constantTensors = new HashMap<>();
    for (Tensor t : g.initializers().values()) {
      constantTensors.put(slots.computeIfAbsent(t.name(), k -> slots.size()), t);
    }
    Set<Integer> defined = new HashSet<>(slots.values());

    // Values known at compile time (the quantized kernels repack constant weights once).
    Map<String, Tensor> known = new HashMap<>();
    Set<String> fed = new HashSet<>();
    g.inputs().forEach(v -> fed.add(v.name()));
    for (Tensor t : g.initializers().values()) {
      if (!fed.contains(t.name())) {
        known.put(t.name(), t);
      }
    }
    for (Node node : g.nodes()) {
      if (node.domain().isEmpty() && node.opType().equals("Constant")) {
        try {
          known.put(node.output(0), ShapeOps.constantValue(new OpNode(node, opset(model, ""))));
        } catch (UnsupportedModelException | RuntimeException e) {
          // reported by the compile loop below
        }
      }
    }
    // The kernels run on the CPU: on a GPU the quantized layers stay ONNX operators on the device
    // (except MatMulNBits, which has no other implementation here).
    QuantFusion.Plan plan =
        quantizedKernels && device == Device.CPU
            ? QuantFusion.plan(g, known)
            : QuantFusion.Plan.NONE;
    fusedKernels = Map.copyOf(plan.counts());
    boolean kernelLayers =
        device == Device.CPU
            && (!fusedKernels.isEmpty()
                || g.nodes().stream().anyMatch(n -> n.opType().equals("MatMulNBits")));
    torchThreads = kernelLayers ? TorchThreads.configured() : 0;

    List<Step> compiled = new ArrayList<>();
    stepOfNode = new HashMap<>();
    Map<Node, Integer> anchorStep = new java.util.IdentityHashMap<>();
    boolean noDefaultOpset = model.opset("").isEmpty();
    for (Node node : g.nodes()) {
      if (noDefaultOpset && node.domain().isEmpty()) {
        problems.add(
            "the model imports no opset for the default ONNX domain, so operator semantics are"
                + " unknown (HINT: model.opsetImports().put(\"\", 17L))");
        noDefaultOpset = false;
      }
      OpNode op = new OpNode(node, opset(model, node.domain()), known);
      if (!node.name().isEmpty()) {
        stepOfNode.putIfAbsent(node.name(), -1);
      }
      if (plan.skipped().contains(node)) {
        continue; // its work is done by a fused kernel, and nothing else reads its outputs
      }
      QuantFusion.Group group = plan.groups().get(node);
      List<String> inputNames = group != null ? group.inputs() : node.inputs();
      int[] in = new int[inputNames.size()];
      for (int i = 0; i < in.length; i++) {
        String v = inputNames.get(i);
        Integer s = v.isEmpty() ? null : slots.get(v);
        if (!v.isEmpty() && (s == null || !defined.contains(s))) {
          problems.add(
              op.where()
                  + " reads '"
                  + v
                  + "', which no earlier node, input or initializer produces");
        }
        in[i] = s == null ? -1 : s;
      }
      int[] out = new int[node.outputs().size()];
      for (int i = 0; i < out.length; i++) {
        String v = node.output(i);
        out[i] = v.isEmpty() ? -1 : slots.computeIfAbsent(v, k -> slots.size());
        if (out[i] >= 0) {
          defined.add(out[i]);
        }
      }
      try {
        if (node.domain().isEmpty() && node.opType().equals("Constant")) {
          Tensor value = ShapeOps.constantValue(op);
          if (NdConvert.toDjl(value.dtype()).isEmpty()) {
            throw op.unsupported("constant of element type " + value.dtype());
          }
          constantTensors.put(out[0], value);
          continue;
        }
        if (group != null) {
          anchorStep.put(node, compiled.size());
          if (!node.name().isEmpty()) {
            stepOfNode.put(node.name(), compiled.size());
          }
          compiled.add(new Step(op, group.kernel(), inputNames, in, out, null));
          continue;
        }
        KernelFactory f = OpRegistry.find(node).orElse(null);
        if (f == null) {
          problems.add(
              "no kernel for operator " + node.qualifiedOpType() + " (node '" + node.name() + "')");
          continue;
        }
        Kernel k = f.compile(op);
        if (!node.name().isEmpty()) {
          stepOfNode.put(node.name(), compiled.size());
        }
        compiled.add(new Step(op, k, inputNames, in, out, null));
      } catch (UnsupportedModelException e) {
        problems.add(e.getMessage().replace("DjlExecutor cannot run ", ""));
      }
    }

    // Capturing a node absorbed into a fused kernel records that kernel's activation inputs.
    for (QuantFusion.Group gr : plan.groups().values()) {
      Integer at = anchorStep.get(gr.anchor());
      for (Node member : gr.members()) {
        if (at != null && plan.skipped().contains(member) && !member.name().isEmpty()) {
          stepOfNode.merge(member.name(), at, (a, b) -> a >= 0 ? a : b);
        }
      }
    }

    outputNames = g.outputs().stream().map(ValueInfo::name).toList();
    outputSlots = new int[outputNames.size()];
    for (int i = 0; i < outputSlots.length; i++) {
      Integer s = slots.get(outputNames.get(i));
      if (s == null || !defined.contains(s)) {
        problems.add("graph output '" + outputNames.get(i) + "' is not produced by any node");
        outputSlots[i] = -1;
      } else {
        outputSlots[i] = s;
      }
    }
    for (Map.Entry<Integer, Tensor> c : constantTensors.entrySet()) {
      if (NdConvert.toDjl(c.getValue().dtype()).isEmpty()) {
        problems.add(
            "initializer '"
                + c.getValue().name()
                + "' has element type "
                + c.getValue().dtype()
                + ", which the PyTorch engine cannot hold");
      }
    }
    if (!problems.isEmpty()) {
      throw new UnsupportedModelException(
          "DjlExecutor cannot run "
              + (g.name().isEmpty() ? "the graph" : "graph '" + g.name() + "'")
              + ": "
              + String.join("; ", problems));
    }

    // Liveness: release each non-output value after its last reader (or at once if none reads it).
    slotCount = slots.size();
    valueSlots = Map.copyOf(slots);
    int[] lastUse = new int[slotCount];
    Arrays.fill(lastUse, -1);
    Set<Integer> keep = new HashSet<>();
    for (int s : outputSlots) {
      keep.add(s);
    }
    for (int i = 0; i < compiled.size(); i++) {
      for (int s : compiled.get(i).out()) {
        if (s >= 0) {
          lastUse[s] = Math.max(lastUse[s], i);
        }
      }
      for (int s : compiled.get(i).in()) {
        if (s >= 0) {
          lastUse[s] = Math.max(lastUse[s], i);
        }
      }
    }
    List<Step> finalSteps = new ArrayList<>(compiled.size());
    for (int i = 0; i < compiled.size(); i++) {
      Step st = compiled.get(i);
      final int step = i;
      int[] release =
          Arrays.stream(concat(st.in(), st.out()))
              .filter(s -> s >= 0 && lastUse[s] == step && !keep.contains(s))
              .distinct()
              .toArray();
      finalSteps.add(new Step(st.op(), st.kernel(), st.inNames(), st.in(), st.out(), release));
    }
    steps = List.copyOf(finalSteps);

    // Weights: copied once into the root manager, only those something reads.
    root = NDManager.newBaseManager(djlDevice, ENGINE);
    constants = new NDArray[slotCount];
    try {
      for (Map.Entry<Integer, Tensor> c : constantTensors.entrySet()) {
        int s = c.getKey();
        if (lastUse[s] >= 0 || keep.contains(s)) {
          constants[s] = NdConvert.toNd(c.getValue(), root);
        }
      }
    } catch (RuntimeException e) {
      root.close();
      throw new CompressionException("DjlExecutor: cannot load the weights: " + e.getMessage(), e);
    }
  }

  private static int[] concat(int[] a, int[] b) {
    int[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  private static long opset(ModelGraph model, String domain) {
    return model.opset(domain).orElse(domain.isEmpty() ? -1 : 1);
  }

  @Override
  public List<String> inputNames() {
    return List.copyOf(feedSlots.keySet());
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

  /**
   * Quantized linear layers that run on the project's kernels, counted by kind ({@code
   * int8-weight-only}, {@code w8a8-dynamic}, {@code w8a8-static}); {@code MatMulNBits} nodes always
   * do and are not counted here.
   */
  public Map<String, Integer> fusedKernels() {
    return fusedKernels;
  }

  /** Arrays held by the root manager and its children: between calls, exactly the weights. */
  int residentArrayCount() {
    return root.getManagedArrays().size();
  }

  @Override
  public ForwardResult forward(Map<String, Tensor> inputs, Set<String> captureNodes)
      throws CompressionException {
    if (closed.get()) {
      throw new IllegalStateException("DjlExecutor is closed");
    }
    checkInputs(inputs);
    Map<Integer, List<String>> captureAt = new HashMap<>();
    Map<String, List<Tensor>> captured = new LinkedHashMap<>();
    for (String name : captureNodes) {
      Integer step = stepOfNode.get(name);
      if (step == null) {
        throw new IllegalArgumentException(
            "cannot capture '" + name + "': the graph has no node of that name");
      }
      captured.put(name, List.of()); // folded Constant nodes have no runtime inputs
      if (step >= 0) {
        captureAt.computeIfAbsent(step, x -> new ArrayList<>()).add(name);
      }
    }

    try (TorchThreads.Scope threads = TorchThreads.scope(torchThreads);
        NDManager scope = root.newSubManager()) {
      NDArray[] vals = new NDArray[slotCount];
      for (Map.Entry<String, Integer> f : feedSlots.entrySet()) {
        vals[f.getValue()] = NdConvert.toNd(inputs.get(f.getKey()), scope);
      }
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        // An input that shadows an initializer (older exporters list initializers as inputs).
        if (!feedSlots.containsKey(e.getKey())) {
          int s = slotOfConstant(e.getKey());
          if (s >= 0) {
            vals[s] = NdConvert.toNd(e.getValue(), scope);
          }
        }
      }
      for (int i = 0; i < steps.size(); i++) {
        Step st = steps.get(i);
        NDArray[] in = new NDArray[st.in().length];
        for (int j = 0; j < in.length; j++) {
          in[j] = st.in()[j] < 0 ? null : value(vals, st.in()[j], scope);
        }
        List<String> capture = captureAt.get(i);
        if (capture != null) {
          List<Tensor> c = captureInputs(st, in);
          capture.forEach(name -> captured.put(name, c));
        }
        NDArray[] out = run(st, in, scope);
        for (int k = 0; k < st.out().length; k++) {
          int s = st.out()[k];
          if (s < 0) {
            continue;
          }
          NDArray o = k < out.length ? out[k] : null;
          if (o == null) {
            throw new CompressionException(
                "DjlExecutor: " + st.op().where() + " produced no value for output " + k);
          }
          for (NDArray x : in) {
            if (o == x) {
              o = ShapeOps.view(o); // each slot owns its array object
            }
          }
          if (o.getManager() != scope) {
            o.attach(scope);
          }
          vals[s] = o;
        }
        for (int s : st.release()) {
          if (vals[s] != null) {
            vals[s].close();
            vals[s] = null;
          }
        }
      }
      Map<String, Tensor> outputs = new LinkedHashMap<>();
      for (int i = 0; i < outputSlots.length; i++) {
        outputs.put(
            outputNames.get(i),
            NdConvert.toTensor(outputNames.get(i), value(vals, outputSlots[i], scope)));
      }
      return new ForwardResult(outputs, captured);
    }
  }

  private int slotOfConstant(String name) {
    Integer s = valueSlots.get(name);
    return s != null && constants[s] != null ? s : -1;
  }

  private static NDArray[] run(Step st, NDArray[] in, NDManager scope) throws CompressionException {
    try (NDScope temporaries = new NDScope()) {
      temporaries.suppressNotUsedWarning();
      NDArray[] out = st.kernel().run(in, scope);
      for (NDArray o : out) {
        if (o != null) {
          NDScope.unregister(o);
        }
      }
      return out;
    } catch (UnsupportedModelException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CompressionException(
          "DjlExecutor: "
              + st.op().where()
              + " failed on inputs "
              + shapes(in)
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static String shapes(NDArray[] in) {
    List<String> s = new ArrayList<>();
    for (NDArray a : in) {
      s.add(a == null ? "-" : a.getDataType() + a.getShape().toString());
    }
    return s.toString();
  }

  /** The value in a slot; a weight enters a call as a view owned by the call's manager. */
  private NDArray value(NDArray[] vals, int slot, NDManager scope) {
    NDArray v = vals[slot];
    if (v == null && constants[slot] != null) {
      v = ShapeOps.view(constants[slot]);
      v.attach(scope);
      vals[slot] = v;
    }
    if (v == null) {
      throw new IllegalStateException("value slot " + slot + " read before it is produced");
    }
    return v;
  }

  private List<Tensor> captureInputs(Step st, NDArray[] in) {
    List<Tensor> list = new ArrayList<>();
    for (int j = 0; j < in.length; j++) {
      int s = st.in()[j];
      if (s >= 0 && constants[s] == null) {
        list.add(NdConvert.toTensor(st.inNames().get(j), in[j]));
      }
    }
    return List.copyOf(list);
  }

  private void checkInputs(Map<String, Tensor> inputs) {
    for (String name : feedSlots.keySet()) {
      if (!inputs.containsKey(name)) {
        throw new IllegalArgumentException(
            "missing input '" + name + "'; the model needs " + feedSlots.keySet());
      }
    }
    for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
      ValueInfo declared = feedTypes.get(e.getKey());
      if (declared == null) {
        throw new IllegalArgumentException(
            "unknown input '" + e.getKey() + "'; the model's inputs are " + feedSlots.keySet());
      }
      checkAgainst(declared, e.getValue());
    }
  }

  /** Checks a fed tensor against the declared element type, rank and fixed dimensions. */
  static void checkAgainst(ValueInfo declared, Tensor t) {
    declared
        .elemType()
        .ifPresent(
            type -> {
              if (type != t.dtype()) {
                throw new IllegalArgumentException(
                    "input '" + declared.name() + "' must be " + type + ", found " + t.dtype());
              }
            });
    if (declared.shape() != null) {
      List<ValueInfo.Dim> dims = declared.shape();
      if (dims.size() != t.rank()) {
        throw new IllegalArgumentException(
            "input '"
                + declared.name()
                + "' must have shape "
                + dims
                + ", found "
                + t.shapeString());
      }
      for (int i = 0; i < dims.size(); i++) {
        if (dims.get(i).value() >= 0 && dims.get(i).value() != t.dim(i)) {
          throw new IllegalArgumentException(
              "input '"
                  + declared.name()
                  + "' must have shape "
                  + dims
                  + ", found "
                  + t.shapeString());
        }
      }
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      root.close();
    }
  }
}
