package dev.compress.runtime.ort;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ForwardResult;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * ONNX Runtime as the reference executor: the compressed model must load and run here, and its
 * latency is a peer number. On the CPU by default; on CUDA device 0 with {@link Device#GPU},
 * through ONNX Runtime's CUDA execution provider, which only the {@code onnxruntime_gpu} jar
 * carries (the build's {@code -Pgpu} profile puts it in place of {@code onnxruntime}; see {@link
 * #cudaProviderAvailable()}). Nodes the CUDA provider has no kernel for run on the CPU provider, as
 * ONNX Runtime assigns them.
 *
 * <p>Lifecycle (see {@link Executor}): {@link #builder()} creates one {@code OrtSession} with all
 * graph optimizations, the configured intra-op thread count and, for a GPU, the CUDA provider; ONNX
 * Runtime checks the operators then. From a {@link ModelGraph}, the graph is first written to a
 * temporary ONNX file by the api's ONNX writer (deleted once the session is created). Each {@code
 * forward} creates its input tensors and the result, and closes both before it returns. {@link
 * #close()} closes the session. Concurrent {@code forward} calls are allowed (ONNX Runtime sessions
 * are thread-safe).
 *
 * <p>ONNX Runtime cannot record node inputs: {@link #forward(Map, Set)} with capture names throws
 * {@link UnsupportedOperationException}; use the DJL executor for calibration.
 */
public final class OrtExecutor implements Executor {
  private final OrtEnvironment env;
  private final OrtSession session;
  private final List<String> inputNames;
  // Read once: asking the session for its input info on every forward costs native calls and
  // allocations inside the timed region of latency benchmarks.
  private final Map<String, NodeInfo> declaredInputs;
  private final List<String> outputNames;
  private final Device device;
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * Builder: exactly one of {@code setModelPath} / {@code setModel} is required; {@code
   * optIntraOpThreads} defaults to ONNX Runtime's choice (one per physical core).
   */
  public static final class Builder {
    private Path path;
    private ModelGraph model;
    private int intraOpThreads;
    private Device device = Device.CPU;

    private Builder() {}

    /** An ONNX file (external-data files beside it are found by ONNX Runtime). */
    public Builder setModelPath(Path path) {
      this.path = Objects.requireNonNull(path, "path");
      return this;
    }

    /** A model graph; written to a temporary ONNX file when the session is built. */
    public Builder setModel(ModelGraph model) {
      this.model = Objects.requireNonNull(model, "model");
      return this;
    }

    /** Intra-op threads; 0 (default) lets ONNX Runtime choose. */
    public Builder optIntraOpThreads(int threads) {
      if (threads < 0) {
        throw new IllegalArgumentException("intraOpThreads must be >= 0, found " + threads);
      }
      this.intraOpThreads = threads;
      return this;
    }

    /**
     * The device (default {@link Device#CPU}); {@link Device#GPU} needs ONNX Runtime's CUDA
     * execution provider ({@link #cudaProviderAvailable()}) and a CUDA device.
     */
    public Builder optDevice(Device device) {
      this.device = Objects.requireNonNull(device, "device");
      return this;
    }

    /**
     * Creates the session.
     *
     * @throws ConfigException when a GPU is requested and the CUDA provider is missing from the
     *     classpath or fails to start (no CUDA device, CUDA or cuDNN libraries not found)
     * @throws CompressionException when ONNX Runtime rejects the model (its message is kept), or
     *     the graph cannot be written
     */
    public OrtExecutor build() throws CompressionException {
      if ((path == null) == (model == null)) {
        throw new IllegalStateException("exactly one of setModelPath / setModel is required");
      }
      if (device == Device.GPU && !cudaProviderAvailable()) {
        throw new ConfigException(NO_CUDA_PROVIDER);
      }
      if (path != null) {
        return new OrtExecutor(path, intraOpThreads, device);
      }
      Path tmp = null;
      try {
        tmp = Files.createTempFile("compress-ort-", ".onnx");
        OnnxWriter.write(model, tmp);
        return new OrtExecutor(tmp, intraOpThreads, device);
      } catch (IOException e) {
        throw new CompressionException("cannot write the model for ONNX Runtime: " + e, e);
      } finally {
        if (tmp != null) {
          try {
            Files.deleteIfExists(tmp);
          } catch (IOException ignored) {
            tmp.toFile().deleteOnExit();
          }
        }
      }
    }
  }

  /**
   * The message for a GPU asked of ONNX Runtime without its CUDA provider on the classpath: what to
   * build with instead.
   */
  public static final String NO_CUDA_PROVIDER = noCudaProvider("device");

  /**
   * {@link #NO_CUDA_PROVIDER} for the setting {@code key} that asked for the GPU (e.g. {@code
   * evaluate.device:}).
   */
  public static String noCudaProvider(String key) {
    return key
        + " gpu: ONNX Runtime's CUDA execution provider is not available (the CPU onnxruntime"
        + " jar is on the classpath); HINT: build with -Pgpu, which puts"
        + " com.microsoft.onnxruntime:onnxruntime_gpu in its place (it needs CUDA 12 and cuDNN 9"
        + " on the machine; README, GPU), or use --device cpu";
  }

  /**
   * Whether the ONNX Runtime on the classpath carries the CUDA execution provider (the {@code
   * onnxruntime_gpu} jar does, the CPU {@code onnxruntime} jar does not). Says nothing about a CUDA
   * device being present: that shows when a session is created.
   */
  public static boolean cudaProviderAvailable() {
    return OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Shorthand for {@code builder().setModelPath(path).build()}. */
  public static OrtExecutor create(Path path) throws CompressionException {
    return builder().setModelPath(path).build();
  }

  private OrtExecutor(Path path, int intraOpThreads, Device device) throws CompressionException {
    env = OrtNatives.environment();
    this.device = device;
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      if (intraOpThreads > 0) {
        opts.setIntraOpNumThreads(intraOpThreads);
      }
      if (device == Device.GPU) {
        try {
          opts.addCUDA(0);
        } catch (OrtException e) {
          throw new ConfigException(
              "device gpu: ONNX Runtime's CUDA execution provider did not start on CUDA device 0: "
                  + firstLine(e.getMessage())
                  + " (HINT: it needs an NVIDIA GPU with CUDA 12 and cuDNN 9 on the library path;"
                  + " or use --device cpu)");
        }
      }
      session = env.createSession(path.toString(), opts);
      inputNames = List.copyOf(session.getInputNames());
      declaredInputs = Map.copyOf(session.getInputInfo());
      outputNames = List.copyOf(session.getOutputNames());
    } catch (OrtException e) {
      throw new CompressionException(
          "ONNX Runtime cannot load "
              + path
              + (device == Device.GPU ? " on CUDA device 0" : "")
              + ": "
              + e.getMessage(),
          e);
    }
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

  private static String firstLine(String s) {
    if (s == null) {
      return "no message";
    }
    // "Error code - ORT_FAIL - message: ..." -> "...": the code says nothing the text does not.
    String t = s.strip().replaceFirst("^Error code - \\w+ - message: ", "");
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl).strip();
  }

  @Override
  public boolean supportsCapture() {
    return false;
  }

  @Override
  public ForwardResult forward(Map<String, Tensor> inputs, Set<String> captureNodes)
      throws CompressionException {
    if (!captureNodes.isEmpty()) {
      throw new UnsupportedOperationException(
          "OrtExecutor cannot capture node inputs (asked for "
              + captureNodes
              + "); use DjlExecutor for calibration");
    }
    if (closed.get()) {
      throw new IllegalStateException("OrtExecutor is closed");
    }
    for (String name : inputNames) {
      if (!inputs.containsKey(name)) {
        throw new IllegalArgumentException(
            "missing input '" + name + "'; the model needs " + inputNames);
      }
    }
    Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
    try {
      Map<String, NodeInfo> declared = declaredInputs;
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        if (!declared.containsKey(e.getKey())) {
          throw new IllegalArgumentException(
              "unknown input '" + e.getKey() + "'; the model's inputs are " + inputNames);
        }
        feeds.put(e.getKey(), toOnnx(e.getKey(), e.getValue(), declared.get(e.getKey())));
      }
      Map<String, Tensor> outputs = new LinkedHashMap<>();
      try (OrtSession.Result r = session.run(feeds)) {
        for (Map.Entry<String, OnnxValue> o : r) {
          outputs.put(o.getKey(), toTensor(o.getKey(), o.getValue()));
        }
      }
      return new ForwardResult(outputs, Map.of());
    } catch (OrtException e) {
      throw new CompressionException("ONNX Runtime failed: " + e.getMessage(), e);
    } finally {
      for (OnnxTensor t : feeds.values()) {
        t.close();
      }
    }
  }

  private OnnxTensor toOnnx(String name, Tensor t, NodeInfo declared) throws OrtException {
    OnnxJavaType type = javaType(t.dtype());
    if (declared.getInfo() instanceof TensorInfo ti && ti.type != type) {
      throw new IllegalArgumentException(
          "input '" + name + "' must be " + ti.type + ", found " + t.dtype());
    }
    // A direct copy: ONNX Runtime wraps direct buffers as they are (heap ones it rejects for
    // non-byte types).
    ByteBuffer src = t.data();
    ByteBuffer direct = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
    direct.put(src).flip();
    return OnnxTensor.createTensor(env, direct, t.shape(), type);
  }

  private static OnnxJavaType javaType(DataType t) {
    return switch (t) {
      case FLOAT -> OnnxJavaType.FLOAT;
      case DOUBLE -> OnnxJavaType.DOUBLE;
      case FLOAT16 -> OnnxJavaType.FLOAT16;
      case BFLOAT16 -> OnnxJavaType.BFLOAT16;
      case INT8 -> OnnxJavaType.INT8;
      case UINT8 -> OnnxJavaType.UINT8;
      case INT16 -> OnnxJavaType.INT16;
      case INT32 -> OnnxJavaType.INT32;
      case INT64 -> OnnxJavaType.INT64;
      case BOOL -> OnnxJavaType.BOOL;
      default ->
          throw new IllegalArgumentException(
              "ONNX Runtime's Java API cannot feed " + t + " tensors");
    };
  }

  private static Tensor toTensor(String name, OnnxValue v) throws CompressionException {
    if (!(v instanceof OnnxTensor t)) {
      throw new CompressionException(
          "output '" + name + "' is a " + v.getType() + ", not a tensor; not supported");
    }
    TensorInfo info = t.getInfo();
    DataType type =
        switch (info.type) {
          case FLOAT -> DataType.FLOAT;
          case DOUBLE -> DataType.DOUBLE;
          case FLOAT16 -> DataType.FLOAT16;
          case BFLOAT16 -> DataType.BFLOAT16;
          case INT8 -> DataType.INT8;
          case UINT8 -> DataType.UINT8;
          case INT16 -> DataType.INT16;
          case INT32 -> DataType.INT32;
          case INT64 -> DataType.INT64;
          case BOOL -> DataType.BOOL;
          default ->
              throw new CompressionException(
                  "output '" + name + "' has element type " + info.type + "; not supported");
        };
    ByteBuffer src = t.getByteBuffer(); // a copy, in native order
    ByteBuffer heap = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    heap.put(src);
    heap.flip();
    return Tensor.of(name, type, info.getShape(), heap);
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        session.close();
      } catch (OrtException e) {
        throw new IllegalStateException("closing the ONNX Runtime session failed", e);
      }
    }
  }
}
