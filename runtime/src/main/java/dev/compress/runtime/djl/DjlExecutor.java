package dev.compress.runtime.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
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

  private final Device device;
  private final CompiledProgram program;
  private final NDManager root;
  private final NDArray[] constants; // by slot; null where the slot is not constant
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
    ai.djl.Device djlDevice = djlDevice(device);
    program = CompiledProgram.compile(model, device, quantizedKernels, "DjlExecutor");
    torchThreads = program.kernelLayers ? TorchThreads.configured() : 0;
    // Weights: copied once into the root manager, only those something reads.
    root = NDManager.newBaseManager(djlDevice, ENGINE);
    constants = new NDArray[program.slotCount];
    try {
      for (Map.Entry<Integer, Tensor> c : program.constants.entrySet()) {
        constants[c.getKey()] = NdConvert.toNd(c.getValue(), root);
      }
    } catch (RuntimeException e) {
      root.close();
      throw new CompressionException("DjlExecutor: cannot load the weights: " + e.getMessage(), e);
    }
  }

  /** The DJL device for {@code device}, failing with {@link #noGpuMessage()} without a GPU. */
  static ai.djl.Device djlDevice(Device device) throws ConfigException {
    if (device == Device.GPU) {
      if (!gpuAvailable()) {
        throw new ConfigException(noGpuMessage());
      }
      return ai.djl.Device.gpu();
    }
    return ai.djl.Device.cpu();
  }

  @Override
  public List<String> inputNames() {
    return List.copyOf(program.feedSlots.keySet());
  }

  @Override
  public List<String> outputNames() {
    return program.outputNames;
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
    return program.fusedKernels;
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
      Integer step = program.stepOfNode.get(name);
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
      NDArray[] vals = new NDArray[program.slotCount];
      for (Map.Entry<String, Integer> f : program.feedSlots.entrySet()) {
        vals[f.getValue()] = NdConvert.toNd(inputs.get(f.getKey()), scope);
      }
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        // An input that shadows an initializer (older exporters list initializers as inputs).
        if (!program.feedSlots.containsKey(e.getKey())) {
          int s = slotOfConstant(e.getKey());
          if (s >= 0) {
            vals[s] = NdConvert.toNd(e.getValue(), scope);
          }
        }
      }
      CompiledProgram.CaptureHook hook =
          captureAt.isEmpty()
              ? null
              : (i, st, in) -> {
                List<String> capture = captureAt.get(i);
                if (capture != null) {
                  List<Tensor> c = captureInputs(st, in);
                  capture.forEach(name -> captured.put(name, c));
                }
              };
      program.execute(vals, constants, scope, null, hook);
      Map<String, Tensor> outputs = new LinkedHashMap<>();
      for (int i = 0; i < program.outputSlots.length; i++) {
        String name = program.outputNames.get(i);
        outputs.put(
            name,
            NdConvert.toTensor(
                name, CompiledProgram.value(vals, constants, program.outputSlots[i], scope)));
      }
      return new ForwardResult(outputs, captured);
    }
  }

  private int slotOfConstant(String name) {
    Integer s = program.valueSlots.get(name);
    return s != null && constants[s] != null ? s : -1;
  }

  private List<Tensor> captureInputs(CompiledProgram.Step st, NDArray[] in) {
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
    for (String name : program.feedSlots.keySet()) {
      if (!inputs.containsKey(name)) {
        throw new IllegalArgumentException(
            "missing input '" + name + "'; the model needs " + program.feedSlots.keySet());
      }
    }
    for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
      ValueInfo declared = program.feedTypes.get(e.getKey());
      if (declared == null) {
        throw new IllegalArgumentException(
            "unknown input '"
                + e.getKey()
                + "'; the model's inputs are "
                + program.feedSlots.keySet());
      }
      checkAgainst(declared, e.getValue());
    }
  }

  /** Checks a fed tensor against the declared element type, rank and fixed dimensions. */
  static void checkAgainst(ValueInfo declared, Tensor t) {
    CompiledProgram.checkAgainst(declared, t.dtype(), t.shape());
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      root.close();
    }
  }
}
