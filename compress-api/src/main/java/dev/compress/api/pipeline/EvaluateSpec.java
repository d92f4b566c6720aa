package dev.compress.api.pipeline;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.RecordBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * @param engine {@code onnxruntime} (the deployment number) or {@code djl} (the DJL PyTorch
 *     interpreter)
 * @param device {@code cpu} or {@code gpu} (DJL only, when DJL finds a GPU)
 * @param sequenceLengths further sequence lengths to sweep (metrics {@code latency.bB.sS.*})
 * @param timeBudgetSeconds wall-clock budget per latency point, stopping before {@code iterations}
 *     when spent; 0 for none
 * @param threads intra-op threads per model; 0 for one per available processor
 * @param labels labels file for {@code classification} when the data holds none
 * @param report file name of a self-contained HTML report written beside the compressed model (a
 *     JSON report with the same base name beside it); empty for none
 * @param pooling one of {@link #POOLINGS}, how {@code embedding-fidelity} and {@code
 *     opinion-sentiment} turn hidden states into vectors: {@code mean} (the mask-mean of the
 *     tokens, sentence-transformers' MiniLM), {@code cls} (the first token's state, as BGE and
 *     other CLS-pooled encoders), {@code none} ({@code embedding-fidelity} only: every real token's
 *     state compared on its own; {@code nn.*} metrics are then not produced)
 * @param tokenizer the model's tokenizer.json; empty to use a built-in model's own or find {@code
 *     <model name>-tokenizer.json} or {@code tokenizer.json} beside the model
 * @param layerErrors one of {@link #LAYER_ERRORS}, the per-layer errors of the report: {@code
 *     accumulated} (through the compressed network: each layer's output against the original's),
 *     {@code isolated} (each layer fed the original's input: its own error alone, the rest float),
 *     {@code both}
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
    String report,
    String pooling,
    String tokenizer,
    String layerErrors) {

  /** The tasks an evaluate block can name. */
  public static final List<String> TASKS =
      List.of("embedding-fidelity", "opinion-sentiment", "classification", "logits", "perplexity");

  /** The poolings an evaluate block can name. */
  public static final List<String> POOLINGS = List.of("mean", "cls", "none");

  /** The per-layer error modes an evaluate block can name. */
  public static final List<String> LAYER_ERRORS = List.of("accumulated", "isolated", "both");

  /** The engines an evaluate block can name. */
  public static final List<String> ENGINES = List.of("onnxruntime", "djl");

  /**
   * Every default of a pipeline's {@code evaluate} block (the values the keys it leaves out get),
   * with {@code data}; each key's default is written here only.
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
        "",
        "mean",
        "",
        "both");
  }

  /**
   * The fourteen-key block: mean pooling, the tokenizer found beside the model, both layer modes.
   */
  public EvaluateSpec(
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
    this(
        task,
        data,
        samples,
        latencyBatchSizes,
        sequenceLength,
        iterations,
        gates,
        engine,
        device,
        sequenceLengths,
        timeBudgetSeconds,
        threads,
        labels,
        report,
        "mean",
        "",
        "both");
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
        "",
        "mean",
        "",
        "both");
  }

  /**
   * A builder starting from {@link #defaults(String)} with {@code data}: {@code
   * EvaluateSpec.builder("builtin:heldout-sentences").samples(24).gate("cosine.mean", ">= 0.98")
   * .build()}.
   */
  public static Builder builder(String data) {
    return new Builder(defaults(data));
  }

  /** A builder starting from this block. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds an {@link EvaluateSpec}; one setter per key, checked at {@link #build()}. */
  public static final class Builder extends RecordBuilder<EvaluateSpec, Builder> {
    private Builder(EvaluateSpec start) {
      super(start);
    }

    /** The task: one of {@link #TASKS}. */
    public Builder task(String v) {
      return set("task", v);
    }

    /** The task's data: a file or {@code builtin:NAME}. */
    public Builder data(String v) {
      return set("data", v);
    }

    /** How many samples to use. */
    public Builder samples(int v) {
      return set("samples", v);
    }

    /** Batch sizes for the latency comparison (none: no latency runs). */
    public Builder latencyBatchSizes(Integer... v) {
      return set("latencyBatchSizes", List.of(v));
    }

    /** Tokens per sample for latency runs. */
    public Builder sequenceLength(int v) {
      return set("sequenceLength", v);
    }

    /** Timed iterations per model and latency point. */
    public Builder iterations(int v) {
      return set("iterations", v);
    }

    /** Every gate: metric name to bound, e.g. {@code cosine.mean: ">= 0.99"}. */
    public Builder gates(Map<String, String> v) {
      return set("gates", v);
    }

    /** Adds one gate, e.g. {@code gate("cosine.mean", ">= 0.99")}. */
    @SuppressWarnings("unchecked")
    public Builder gate(String metric, String bound) {
      Map<String, String> g = new LinkedHashMap<>((Map<String, String>) get("gates"));
      g.put(metric, bound);
      return set("gates", g);
    }

    /** The engine: one of {@link #ENGINES}. */
    public Builder engine(String v) {
      return set("engine", v);
    }

    /** {@code cpu} or {@code gpu}. */
    public Builder device(String v) {
      return set("device", v);
    }

    /** Further sequence lengths to sweep. */
    public Builder sequenceLengths(Integer... v) {
      return set("sequenceLengths", List.of(v));
    }

    /** Wall-clock budget per latency point; 0 for none. */
    public Builder timeBudgetSeconds(double v) {
      return set("timeBudgetSeconds", v);
    }

    /** Intra-op threads per model; 0 for one per processor. */
    public Builder threads(int v) {
      return set("threads", v);
    }

    /** Labels file for {@code classification}. */
    public Builder labels(String v) {
      return set("labels", v);
    }

    /** File name of the HTML report written beside the compressed model. */
    public Builder report(String v) {
      return set("report", v);
    }

    /** The pooling: one of {@link #POOLINGS}. */
    public Builder pooling(String v) {
      return set("pooling", v);
    }

    /** The model's tokenizer.json. */
    public Builder tokenizer(String v) {
      return set("tokenizer", v);
    }

    /** The per-layer error mode: one of {@link #LAYER_ERRORS}. */
    public Builder layerErrors(String v) {
      return set("layerErrors", v);
    }
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
    pooling = pooling == null ? "mean" : pooling.trim().toLowerCase(Locale.ROOT);
    tokenizer = tokenizer == null ? "" : tokenizer;
    layerErrors = layerErrors == null ? "both" : layerErrors.trim().toLowerCase(Locale.ROOT);
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
    if (!POOLINGS.contains(pooling)) {
      p.add("pooling must be one of " + POOLINGS + ", found '" + pooling + "'");
    } else if (!pooling.equals("mean")
        && !List.of("embedding-fidelity", "opinion-sentiment").contains(task)) {
      p.add(
          "pooling applies to the embedding-fidelity and opinion-sentiment tasks, found '"
              + pooling
              + "' with task "
              + task);
    } else if (pooling.equals("none") && !"embedding-fidelity".equals(task)) {
      p.add("pooling 'none' (token-level) needs task embedding-fidelity, found task " + task);
    }
    if (!LAYER_ERRORS.contains(layerErrors)) {
      p.add("layerErrors must be one of " + LAYER_ERRORS + ", found '" + layerErrors + "'");
    }
    InvalidConfigException.throwIfAny(p);
  }
}
