package dev.compress.api.pipeline;

import dev.compress.api.pass.InvalidConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code evaluate} block of a pipeline: the original and the compressed model measured side by
 * side in one process (the evaluation module's {@code bench.Bench}, the same code as {@code
 * compress eval} and {@code compress bench}).
 *
 * @param task one of {@link #TASKS}: {@code embedding-fidelity} (mean/min cosine of sentence
 *     embeddings against the original, nearest-neighbour agreement), {@code opinion-sentiment}
 *     (10-NN leave-one-out sentiment of the opinion lexicon), {@code classification} (top-1 on
 *     labelled IDX/JSON/CSV data, logit KL, top-1 agreement), {@code logits} (logit KL and top-1
 *     agreement, labels optional), {@code perplexity} (language models, {@code input_ids ->
 *     logits})
 * @param data the task's data: a file or {@code builtin:NAME}
 * @param samples how many samples to use (> 0)
 * @param latencyBatchSizes batch sizes for the latency comparison (empty: none)
 * @param sequenceLength tokens per sample for latency runs; its metrics are {@code latency.bB.*}
 * @param iterations timed iterations per model and latency point (after warm-up)
 * @param gates metric name to bound, e.g. {@code cosine.mean: ">= 0.99"}
 * @param engine {@code onnxruntime} (default, the deployment number) or {@code djl} (the DJL
 *     PyTorch interpreter)
 * @param device {@code cpu} (default) or {@code gpu} (DJL only, when DJL finds a GPU)
 * @param sequenceLengths further sequence lengths to sweep (metrics {@code latency.bB.sS.*}); empty
 *     by default
 * @param timeBudgetSeconds wall-clock budget per latency point, stopping before {@code iterations}
 *     when spent; 0 (default) for none
 * @param threads intra-op threads per model; 0 (default) for one per available processor
 * @param labels labels file for {@code classification} when the data holds none; empty by default
 * @param report file name of a self-contained HTML report written beside the compressed model (a
 *     JSON report with the same base name beside it); empty (default) for none
 */
public record EvaluateSpec(
    String task,
    String data,
    int samples,
    List<Integer> latencyBatchSizes,
    int sequenceLength,
    int iterations,
    Map<String, String> gates,
    String engine,
    String device,
    List<Integer> sequenceLengths,
    double timeBudgetSeconds,
    int threads,
    String labels,
    String report) {

  /** The tasks an evaluate block can name. */
  public static final List<String> TASKS =
      List.of("embedding-fidelity", "opinion-sentiment", "classification", "logits", "perplexity");

  /** The engines an evaluate block can name. */
  public static final List<String> ENGINES = List.of("onnxruntime", "djl");

  /**
   * The defaults for a pipeline's {@code evaluate} block: embedding fidelity on 100 samples of
   * {@code data}, latency at batch 1 and 32 with 128 tokens, 20 timed iterations, no gates, ONNX
   * Runtime on the CPU with one thread per processor, no report file.
   */
  public static EvaluateSpec defaults(String data) {
    return new EvaluateSpec(
        "embedding-fidelity",
        data,
        100,
        List.of(1, 32),
        128,
        20,
        Map.of(),
        "onnxruntime",
        "cpu",
        List.of(),
        0,
        0,
        "",
        "");
  }

  /**
   * The original seven-key block; the other keys take their defaults.
   *
   * @see #defaults(String)
   */
  public EvaluateSpec(
      String task,
      String data,
      int samples,
      List<Integer> latencyBatchSizes,
      int sequenceLength,
      int iterations,
      Map<String, String> gates) {
    this(
        task,
        data,
        samples,
        latencyBatchSizes,
        sequenceLength,
        iterations,
        gates,
        "onnxruntime",
        "cpu",
        List.of(),
        0,
        0,
        "",
        "");
  }

  /** Validates every field. */
  public EvaluateSpec {
    latencyBatchSizes = latencyBatchSizes == null ? List.of() : List.copyOf(latencyBatchSizes);
    sequenceLengths = sequenceLengths == null ? List.of() : List.copyOf(sequenceLengths);
    gates = gates == null ? Map.of() : Map.copyOf(gates);
    engine = engine == null ? "onnxruntime" : engine.toLowerCase(Locale.ROOT);
    device = device == null ? "cpu" : device.toLowerCase(Locale.ROOT);
    labels = labels == null ? "" : labels;
    report = report == null ? "" : report;
    List<String> p = new ArrayList<>();
    if (!TASKS.contains(task)) {
      p.add("task must be one of " + TASKS + ", found " + task);
    }
    if (data == null || data.isBlank()) {
      p.add("data is required");
    }
    if (samples <= 0) {
      p.add("samples must be > 0, found " + samples);
    }
    for (int i = 0; i < latencyBatchSizes.size(); i++) {
      if (latencyBatchSizes.get(i) == null || latencyBatchSizes.get(i) <= 0) {
        p.add("latencyBatchSizes[" + i + "] must be > 0, found " + latencyBatchSizes.get(i));
      }
    }
    if (sequenceLength <= 0) {
      p.add("sequenceLength must be > 0, found " + sequenceLength);
    }
    for (int i = 0; i < sequenceLengths.size(); i++) {
      if (sequenceLengths.get(i) == null || sequenceLengths.get(i) < 2) {
        p.add("sequenceLengths[" + i + "] must be >= 2, found " + sequenceLengths.get(i));
      }
    }
    if (iterations <= 0) {
      p.add("iterations must be > 0, found " + iterations);
    }
    if (!ENGINES.contains(engine)) {
      p.add("engine must be one of " + ENGINES + ", found " + engine);
    }
    if (!List.of("cpu", "gpu").contains(device)) {
      p.add("device must be one of [cpu, gpu], found " + device);
    }
    if (!(timeBudgetSeconds >= 0) || Double.isInfinite(timeBudgetSeconds)) {
      p.add("timeBudgetSeconds must be >= 0, found " + timeBudgetSeconds);
    }
    if (threads < 0) {
      p.add("threads must be >= 0 (0: one per processor), found " + threads);
    }
    if (report.contains("/") || report.contains("\\")) {
      p.add("report must be a file name (written beside the compressed model), found " + report);
    }
    InvalidConfigException.throwIfAny(p);
  }
}
