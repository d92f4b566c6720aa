package dev.compress.evaluation.engine;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.runtime.djl.DjlExecutor;
import dev.compress.runtime.ort.OrtExecutor;
import dev.compress.runtime.ort.OrtNatives;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Which engine runs the models, where, and with how many threads; {@link #open} builds an {@link
 * Executor} for one model file.
 *
 * <ul>
 *   <li>{@link EngineKind#ONNXRUNTIME}: on the CPU, or with {@link Device#GPU} on CUDA device 0
 *       through ONNX Runtime's CUDA execution provider, which needs the {@code onnxruntime_gpu} jar
 *       (the build's {@code -Pgpu} profile) instead of the CPU {@code onnxruntime} jar; {@code
 *       threads} intra-op threads per session.
 *   <li>{@link EngineKind#DJL}: the DJL PyTorch interpreter ({@link DjlExecutor}) on the CPU or,
 *       with {@link Device#GPU}, on the first GPU DJL reports (an error when it reports none).
 *       PyTorch's thread pool is process-wide: {@code threads} is passed as {@code
 *       ai.djl.pytorch.num_threads} before the engine first loads, and has no effect after.
 * </ul>
 *
 * Half precision is refused with a message for both engines: ONNX Runtime runs the stored types,
 * and the DJL interpreter has no fp16 conversion of a graph yet.
 *
 * @param kind the engine
 * @param device where it runs
 * @param half whether fp16 execution was asked for
 * @param threads intra-op threads (> 0)
 */
public record EngineSpec(EngineKind kind, Device device, boolean half, int threads) {
  /** Validates the arguments. */
  public EngineSpec {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(device, "device");
    if (threads <= 0) {
      throw new IllegalArgumentException("threads must be > 0, found " + threads);
    }
  }

  /** ONNX Runtime on the CPU with one thread per available processor. */
  public static EngineSpec onnxRuntime() {
    return new EngineSpec(
        EngineKind.ONNXRUNTIME, Device.CPU, false, Runtime.getRuntime().availableProcessors());
  }

  /**
   * Checks the combination before any model is loaded.
   *
   * @throws ConfigException for a GPU the engine cannot use (ONNX Runtime without its CUDA
   *     provider, DJL reporting no GPU), naming what to add, or half precision
   */
  public void check() throws ConfigException {
    if (half) {
      throw new ConfigException(
          "half precision is not available: "
              + (kind == EngineKind.ONNXRUNTIME
                  ? "ONNX Runtime runs the types stored in the model"
                  : "the DJL interpreter runs the graph's stored types and has no fp16 conversion"
                      + " of a graph yet")
              + " (HINT: drop --half; measure an fp16 model file instead)");
    }
    if (device == Device.GPU) {
      if (kind == EngineKind.ONNXRUNTIME && !OrtExecutor.cudaProviderAvailable()) {
        throw new ConfigException(OrtExecutor.NO_CUDA_PROVIDER);
      }
      if (kind == EngineKind.DJL && !DjlExecutor.gpuAvailable()) {
        throw new ConfigException(DjlExecutor.noGpuMessage());
      }
    }
  }

  /**
   * An executor for {@code model}.
   *
   * @throws UnsupportedModelException when the engine cannot run the model (e.g. the DJL
   *     interpreter and quantized operators), naming the engine, the file and the operators
   * @throws CompressionException when the model cannot be read or the engine rejects it
   */
  public Executor open(Path model) throws CompressionException {
    check();
    if (kind == EngineKind.ONNXRUNTIME) {
      return OrtExecutor.builder()
          .setModelPath(model)
          .optIntraOpThreads(threads)
          .optDevice(device)
          .build();
    }
    if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
    }
    try {
      return DjlExecutor.builder().setModel(OnnxReader.read(model)).optDevice(device).build();
    } catch (UnsupportedModelException e) {
      throw new UnsupportedModelException(
          "engine djl cannot run "
              + model
              + ": "
              + summarize(e.getMessage())
              + " (HINT: measure it with --engine onnxruntime)");
    } catch (IOException e) {
      throw new CompressionException("cannot read " + model + ": " + e.getMessage(), e);
    }
  }

  /** One line for reports, e.g. {@code ONNX Runtime 1.22.0 on CPU, 2 intra-op threads}. */
  public String describe() {
    if (kind == EngineKind.ONNXRUNTIME) {
      return "ONNX Runtime "
          + OrtNatives.environment().getVersion()
          + (device == Device.GPU ? " on CUDA device 0 (CUDA execution provider), " : " on CPU, ")
          + threads
          + " intra-op threads per model";
    }
    return "DJL PyTorch interpreter on "
        + device
        + ", ai.djl.pytorch.num_threads="
        + System.getProperty("ai.djl.pytorch.num_threads", Integer.toString(threads))
        + " (process-wide)"
        + kernelThreads()
        + openMpSettings();
  }

  /** How PyTorch shares the CPU with the kernels' pool while quantized layers run on it. */
  private String kernelThreads() {
    if (device != Device.CPU) {
      return "";
    }
    int t = DjlExecutor.torchThreadsWithKernels();
    return t == 0
        ? ""
        : ", PyTorch on "
            + t
            + " thread"
            + (t == 1 ? "" : "s")
            + " while a model's quantized layers run on the kernels"
            + " (compress.djl.torchThreadsWithKernels)";
  }

  /**
   * The OpenMP settings that change how PyTorch's threads wait between ops, when set: they decide
   * how much of the cores the quantized kernels' own pool gets, so two runs are only comparable
   * with the same ones (benchmarks/README.md, "MiniLM end to end").
   */
  static String openMpSettings() {
    StringBuilder b = new StringBuilder();
    for (String v : new String[] {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS"}) {
      String value = System.getenv(v);
      if (value != null && !value.isBlank()) {
        b.append(", ").append(v).append('=').append(value.trim());
      }
    }
    return b.toString();
  }

  private static final java.util.regex.Pattern NO_KERNEL =
      java.util.regex.Pattern.compile("no kernel for operator (\\S+) \\(node '([^']*)'\\)");

  /**
   * The interpreter's list of problems, one entry per node, condensed to one entry per operator:
   * {@code no kernel for DequantizeLinear (40 nodes, first 'x')}.
   */
  static String summarize(String message) {
    if (message == null) {
      return "unsupported model";
    }
    int colon = message.indexOf(": ");
    String body = colon < 0 ? message : message.substring(colon + 2);
    java.util.Map<String, java.util.List<String>> byOp = new java.util.LinkedHashMap<>();
    java.util.List<String> other = new java.util.ArrayList<>();
    for (String part : body.split("; ")) {
      java.util.regex.Matcher m = NO_KERNEL.matcher(part);
      if (m.find()) {
        byOp.computeIfAbsent(m.group(1), k -> new java.util.ArrayList<>()).add(m.group(2));
      } else {
        other.add(part);
      }
    }
    java.util.List<String> out = new java.util.ArrayList<>();
    byOp.forEach(
        (op, nodes) ->
            out.add(
                "no kernel for "
                    + op
                    + (nodes.size() == 1
                        ? " (node '" + nodes.get(0) + "')"
                        : " (" + nodes.size() + " nodes, first '" + nodes.get(0) + "')")));
    if (other.size() > 3) {
      out.addAll(other.subList(0, 3));
      out.add("and " + (other.size() - 3) + " more");
    } else {
      out.addAll(other);
    }
    return String.join("; ", out);
  }
}
