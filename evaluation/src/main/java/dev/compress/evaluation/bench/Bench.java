package dev.compress.evaluation.bench;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.exec.Executor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.io.hf.DecoderGraph;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.evaluation.bench.BenchReport.LatencyPoint;
import dev.compress.evaluation.bench.BenchReport.VariantResult;
import dev.compress.evaluation.bench.BenchSpec.Variant;
import dev.compress.evaluation.latency.InterleavedLatency;
import dev.compress.evaluation.latency.InterleavedLatency.Workload;
import dev.compress.evaluation.latency.LatencyStats;
import dev.compress.evaluation.layers.LayerErrors;
import dev.compress.evaluation.layers.LayerErrors.LayerError;
import dev.compress.evaluation.layers.LayerErrors.Mode;
import dev.compress.evaluation.memory.MemoryProbe;
import dev.compress.evaluation.size.OnnxFileSize;
import dev.compress.evaluation.task.TaskOutcome;
import dev.compress.evaluation.task.TaskRunner;
import dev.compress.evaluation.task.TaskSpec;
import dev.compress.runtime.calibration.BuiltinTextData;
import dev.compress.runtime.calibration.TextSamples;
import dev.compress.runtime.calibration.TokenizerLocator;
import dev.compress.runtime.text.SentenceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * Measures model variants side by side in this process: bytes on disk, memory of each alone, the
 * task's accuracy/fidelity, latency over a sweep of batch sizes and sequence lengths with all
 * variants interleaved, and per-layer error against the baseline. The same code backs {@code
 * compress bench}, {@code compress eval} and the pipeline's {@code evaluate} block.
 *
 * <p>Latency inputs: for models with token inputs ({@code input_ids}), built-in held-out sentences
 * tokenized with the model's tokenizer and padded or truncated to exactly the sequence length
 * (without a tokenizer: token ids alternating 0/1); for float inputs, seeded standard-normal values
 * shaped by the declared input (symbolic dimensions after the batch take the sequence length).
 * Times are of whole {@code forward} calls, which include copying inputs in and outputs out (the
 * same for every variant).
 *
 * <p>Order of work: every variant must load in the engine before anything is measured (an engine
 * that cannot run a variant fails the run with {@link UnsupportedModelException} naming it); then
 * memory (each variant loaded and run alone), then the task, then latency, then per-layer errors.
 * Each of these steps is reported to the progress listener as task {@value #TASK} in units of
 * {@code steps}: {@code step(TASK, done, total, item)} where {@code item} names the step that
 * starts now (e.g. {@code latency: batch 8, 128 tokens}).
 */
public final class Bench {
  /** The task name the progress listener sees. */
  public static final String TASK = "evaluate";

  private final ProgressListener progress;

  /** A bench that reports its steps to {@code progress} (null: {@link ProgressListener#NONE}). */
  public Bench(ProgressListener progress) {
    this.progress = progress == null ? ProgressListener.NONE : progress;
  }

  /**
   * Runs the measurement.
   *
   * @throws ConfigException for a missing model file or an impossible engine setting
   * @throws UnsupportedModelException when the engine cannot run a variant
   */
  public BenchReport run(BenchSpec spec) throws CompressionException {
    spec.engine().check();
    List<Variant> variants = spec.variants();
    for (Variant v : variants) {
      if (!Files.isRegularFile(v.path())) {
        throw new ConfigException("model " + v.name() + ": file not found: " + v.path());
      }
    }
    Map<String, String> env = environment(spec);
    List<String> notes = new ArrayList<>();
    ModelGraph baseGraph = read(variants.get(0).path());
    List<ValueInfo> feeds = baseGraph.graph().feedInputs();
    Optional<Path> tokenizer =
        TokenizerLocator.find(
            spec.modelSpec(), variants.get(0).path(), spec.tokenizer(), "--tokenizer");
    if (tokenizer.isEmpty() && spec.task().isPresent() && needsTokenizer(spec.task().get())) {
      throw new ConfigException(
          TokenizerLocator.missing(
              variants.get(0).path(), "--tokenizer FILE (evaluate.tokenizer in a pipeline)"));
    }
    Inputs inputs = new Inputs(feeds, tokenizer, spec.seed());

    List<Executor> open = new ArrayList<>();
    boolean tokenInputs = feeds.stream().anyMatch(f -> f.name().equals("input_ids"));
    int total =
        1
            + (spec.memory() ? variants.size() : 0)
            + (spec.task().isPresent() ? 1 : 0)
            + (tokenInputs ? spec.sequenceLengths().size() : 1) * spec.batchSizes().size()
            + (spec.layerErrors() ? variants.size() - 1 : 0);
    Steps steps = new Steps(progress, total);
    progress.start(TASK, total, "steps");
    try {
      steps.next("loading " + variants.size() + " model(s) in " + spec.engine().describe());
      for (Variant v : variants) {
        open.add(spec.engine().open(v.path()));
      }
      for (int i = 1; i < open.size(); i++) {
        if (!open.get(i).inputNames().equals(open.get(0).inputNames())) {
          throw new UnsupportedModelException(
              "cannot compare "
                  + variants.get(i).name()
                  + ": its inputs "
                  + open.get(i).inputNames()
                  + " differ from the baseline's "
                  + open.get(0).inputNames());
        }
      }
      List<String> names = open.get(0).inputNames();

      // Memory of each variant alone (loaded again, so the others' sessions are not counted).
      List<Optional<MemoryProbe.Usage>> memory = new ArrayList<>();
      if (spec.memory()) {
        int b = spec.batchSizes().isEmpty() ? 1 : spec.batchSizes().get(0);
        int s = spec.sequenceLengths().isEmpty() ? 128 : spec.sequenceLengths().get(0);
        Map<String, Tensor> in = inputs.make(names, b, s);
        for (Variant v : variants) {
          steps.next("memory: " + v.name());
          memory.add(
              Optional.of(
                  MemoryProbe.<CompressionException>measure(
                      after -> {
                        try (Executor e = spec.engine().open(v.path())) {
                          e.forward(in);
                          after.run();
                        }
                      })));
        }
        notes.add(
            "memory: each model loaded and run once alone at batch "
                + b
                + "; heap peak = sum of heap pool peaks (upper bound); RSS peak from VmHWM"
                + (memory.get(0).map(MemoryProbe.Usage::rssPeakReset).orElse(false)
                    ? " (reset before each model)"
                    : " (could not be reset: lifetime peak)"));
      } else {
        variants.forEach(v -> memory.add(Optional.empty()));
      }

      List<VariantResult> results = new ArrayList<>();
      for (int i = 0; i < variants.size(); i++) {
        Variant v = variants.get(i);
        results.add(
            new VariantResult(
                v.name(), v.path().toString(), OnnxFileSize.of(v.path()).bytes(), memory.get(i)));
      }

      Optional<TaskOutcome> task = Optional.empty();
      if (spec.task().isPresent()) {
        steps.next("task " + spec.task().get().kind().id() + " on " + spec.task().get().data());
        String length = baseGraph.metadata().get(DecoderGraph.MODEL_LENGTH_KEY);
        task =
            Optional.of(
                TaskRunner.run(
                    spec.task().get(),
                    open,
                    tokenizer,
                    feeds,
                    length == null
                        ? java.util.OptionalInt.empty()
                        : java.util.OptionalInt.of(Integer.parseInt(length))));
      }

      List<LatencyPoint> latency = new ArrayList<>();
      boolean tokens = names.contains("input_ids");
      List<Integer> seqs = tokens ? spec.sequenceLengths() : List.of(0);
      for (int s : seqs) {
        for (int b : spec.batchSizes()) {
          steps.next("latency: batch " + b + (tokens ? ", " + s + " tokens" : ""));
          Map<String, Tensor> in = inputs.make(names, b, s);
          List<Workload> work = new ArrayList<>();
          for (Executor e : open) {
            work.add(() -> e.forward(in));
          }
          List<LatencyStats> stats = InterleavedLatency.measure(work, spec.plan());
          latency.add(new LatencyPoint(b, s, stats));
        }
      }
      if (!spec.batchSizes().isEmpty()) {
        notes.add("latency inputs: " + inputs.describe(names));
      }

      Map<String, List<LayerError>> layers = new LinkedHashMap<>();
      String layerInputs = "";
      if (spec.layerErrors() && variants.size() > 1) {
        List<Map<String, Tensor>> batches;
        if (spec.task().isPresent()) {
          TaskRunner.SampleInputs s =
              TaskRunner.sampleInputs(
                  spec.task().get(), tokenizer, names, feeds, LAYER_ERROR_SAMPLES);
          batches = s.batches();
          layerInputs = s.description();
        } else {
          batches = List.of(inputs.make(names, 2, 32));
          layerInputs = inputs.describe(names) + " at batch 2, 32 tokens (no task data)";
        }
        boolean djlCapture = open.stream().allMatch(Executor::supportsCapture);
        List<String> layerNotes = new ArrayList<>();
        for (int i = 1; i < variants.size(); i++) {
          steps.next("per-layer error: " + variants.get(i).name());
          ModelGraph g = read(variants.get(i).path());
          LayerErrors.Result res =
              LayerErrors.measure(
                  baseGraph,
                  g,
                  open.get(0),
                  open.get(i),
                  batches,
                  spec.layerErrorModes(),
                  spec.engine().threads());
          String name = variants.get(i).name();
          layers.put(name, res.errors());
          res.notes().forEach(n -> layerNotes.add(name + ": " + n));
        }
        notes.add(
            "per-layer error ("
                + String.join(", ", spec.layerErrorModes().stream().map(Mode::id).toList())
                + "): linear layers of the baseline, on "
                + layerInputs
                + "; accumulated = each layer's output in the compressed network against the"
                + " original's ("
                + (djlCapture
                    ? "captured by the DJL interpreter running both models"
                    : "ONNX Runtime, layer outputs exposed as graph outputs")
                + "), isolated = the compressed layer alone fed the original's input (ONNX"
                + " Runtime); ACTIVATION = relative L2 error of the output, WEIGHT = of the weight"
                + " where the output is not in the compressed graph");
        notes.addAll(layerNotes);
      }
      progress.step(TASK, total, total, "");
      progress.finish(TASK);
      return new BenchReport(
          env,
          results,
          latency,
          task,
          layers,
          notes,
          layers.isEmpty() ? List.of() : spec.layerErrorModes(),
          layerInputs);
    } finally {
      for (Executor e : open) {
        e.close();
      }
    }
  }

  /** Counts the steps of one run for the progress listener. */
  private static final class Steps {
    private final ProgressListener progress;
    private final int total;
    private int done;

    Steps(ProgressListener progress, int total) {
      this.progress = progress;
      this.total = total;
    }

    /** Reports that the step {@code line} starts (the previous one, if any, is done). */
    void next(String line) {
      progress.step(TASK, Math.min(done, total), total, line);
      done++;
    }
  }

  private static Map<String, String> environment(BenchSpec spec) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("started", Instant.now().toString());
    env.put("java", Runtime.version() + " (" + System.getProperty("java.vendor") + ")");
    env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    env.put("processors", Integer.toString(Runtime.getRuntime().availableProcessors()));
    env.put("engine", spec.engine().describe());
    env.put("threads", Integer.toString(spec.engine().threads()));
    env.put("latency", spec.plan().describe() + ", interleaved");
    env.put("bootstrap", "95% percentile-bootstrap CIs, 1000 resamples, seed 0");
    return env;
  }

  static ModelGraph read(Path p) throws CompressionException {
    try {
      return OnnxReader.read(p);
    } catch (IOException e) {
      throw new CompressionException("cannot read " + p + ": " + e.getMessage(), e);
    }
  }

  /** Samples of the task's data the per-layer errors are measured on. */
  static final int LAYER_ERROR_SAMPLES = 8;

  /** Whether the task reads text that must be tokenized. */
  static boolean needsTokenizer(TaskSpec t) {
    return switch (t.kind()) {
      case EMBEDDING_FIDELITY, OPINION_SENTIMENT -> true;
      case PERPLEXITY -> !t.data().toLowerCase(java.util.Locale.ROOT).endsWith(".ids");
      case CLASSIFICATION, LOGITS -> false;
    };
  }

  /** Latency and capture inputs for a model's feeds. */
  static final class Inputs {
    private final List<ValueInfo> feeds;
    private final Optional<Path> tokenizer;
    private final long seed;
    private List<String> sentences;

    Inputs(List<ValueInfo> feeds, Optional<Path> tokenizer, long seed) {
      this.feeds = feeds;
      this.tokenizer = tokenizer;
      this.seed = seed;
    }

    Map<String, Tensor> make(List<String> names, int batch, int seq) throws CompressionException {
      if (names.contains("input_ids")) {
        if (tokenizer.isPresent()) {
          if (sentences == null) {
            sentences = TextSamples.read(BuiltinTextData.HELDOUT_SENTENCES, "latency inputs");
          }
          List<String> b = new ArrayList<>();
          for (int i = 0; i < batch; i++) {
            b.add(sentences.get(i % sentences.size()));
          }
          try (SentenceTokenizer t = SentenceTokenizer.createFixed(tokenizer.get(), seq)) {
            return t.encode(b).inputsFor(names);
          }
        }
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String n : names) {
          long[] v = new long[batch * seq];
          for (int i = 0; i < v.length; i++) {
            v[i] = n.equals("input_ids") ? i % 2 : n.equals("attention_mask") ? 1 : 0;
          }
          m.put(n, Tensor.ofLongs(n, new long[] {batch, seq}, v));
        }
        return m;
      }
      Random rng = new Random(seed);
      Map<String, Tensor> m = new LinkedHashMap<>();
      for (String n : names) {
        ValueInfo vi = feeds.stream().filter(f -> f.name().equals(n)).findFirst().orElse(null);
        if (vi == null || vi.elemType().orElse(null) != DataType.FLOAT || vi.shape() == null) {
          throw new UnsupportedModelException(
              "cannot make latency inputs for input '"
                  + n
                  + "'"
                  + (vi == null ? "" : " of type " + vi.typeString())
                  + ": only token inputs (input_ids) and float inputs of known rank are generated");
        }
        long[] shape = new long[vi.shape().size()];
        for (int d = 0; d < shape.length; d++) {
          long fixed = vi.shape().get(d).value();
          shape[d] = d == 0 ? batch : fixed > 0 ? fixed : Math.max(seq, 1);
        }
        float[] x = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) rng.nextGaussian();
        }
        m.put(n, Tensor.ofFloats(n, shape, x));
      }
      return m;
    }

    String describe(List<String> names) {
      if (names.contains("input_ids")) {
        return tokenizer.isPresent()
            ? "held-out sentences ("
                + BuiltinTextData.HELDOUT_SENTENCES
                + ") padded/truncated to"
                + " the sequence length"
            : "token ids alternating 0/1 (no tokenizer found)";
      }
      return "seeded standard-normal floats (seed " + seed + ")";
    }
  }
}
