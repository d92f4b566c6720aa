package dev.compress.evaluation;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.exec.Device;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.pipeline.EvaluateSpec;
import dev.compress.api.pipeline.Evaluator;
import dev.compress.evaluation.bench.Bench;
import dev.compress.evaluation.bench.BenchReport;
import dev.compress.evaluation.bench.BenchReport.LatencyPoint;
import dev.compress.evaluation.bench.BenchSpec;
import dev.compress.evaluation.bench.BenchTable;
import dev.compress.evaluation.engine.EngineKind;
import dev.compress.evaluation.engine.EngineSpec;
import dev.compress.evaluation.gate.Gate;
import dev.compress.evaluation.gate.Gates;
import dev.compress.evaluation.latency.LatencyPlan;
import dev.compress.evaluation.latency.LatencyStats;
import dev.compress.evaluation.layers.LayerErrors;
import dev.compress.evaluation.report.GateResult;
import dev.compress.evaluation.report.HtmlReport;
import dev.compress.evaluation.report.JsonReport;
import dev.compress.evaluation.task.Pooling;
import dev.compress.evaluation.task.TaskKind;
import dev.compress.evaluation.task.TaskSpec;
import dev.compress.runtime.calibration.TextSamples;
import dev.compress.runtime.calibration.TokenizerLocator;
import dev.compress.runtime.ort.OrtExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The pipeline's {@code evaluate} block (registered as the {@link Evaluator} service): the original
 * and the compressed model measured side by side by {@link Bench}, the same code as {@code compress
 * eval} and {@code compress bench}, then checked against the block's gates.
 *
 * <h2>Metrics (gate-able names)</h2>
 *
 * <ul>
 *   <li>Task metrics that compare the compressed model with the original keep their names: {@code
 *       cosine.mean}, {@code cosine.min}, {@code nn.agreement}, {@code nn10.overlap}, {@code
 *       sentiment.agreement}, {@code top1.agreement}, {@code logits.kl}. Metrics of each model on
 *       its own get a suffix: {@code sentiment.accuracy.original} / {@code .compressed}, {@code
 *       top1.accuracy.*}, {@code perplexity.*}, {@code nll.mean.*}; {@code perplexity.ratio} is the
 *       compressed perplexity over the original's (above 1 is worse).
 *   <li>Latency at the block's {@code sequenceLength}, per batch size {@code B}: {@code
 *       latency.bB.original.p50_ms}, {@code .p90_ms}, {@code .p99_ms}, the same for {@code
 *       compressed}, and {@code latency.bB.ratio} (compressed p50 / original p50; below 1 is
 *       faster); at each further {@code sequenceLengths} entry {@code S} the same under {@code
 *       latency.bB.sS.}; {@code latency.intra_op_threads}.
 *   <li>Size: {@code size.original_bytes}, {@code size.compressed_bytes}, {@code size.ratio}.
 * </ul>
 *
 * Gates are parsed before anything runs: an unknown metric or a malformed bound is a {@link
 * ConfigException} naming {@code evaluate.gates.METRIC}. With {@code report} set, the HTML and JSON
 * reports (with per-layer errors) are written beside the compressed model. Instances are stateless.
 */
public final class SideBySideEvaluator implements Evaluator {
  private static final List<String> COMPARATIVE =
      List.of(
          "cosine.mean",
          "cosine.min",
          "nn.agreement",
          "nn10.overlap",
          "sentiment.agreement",
          "top1.agreement",
          "logits.kl");

  private final int threadsOverride;

  /** Uses the block's {@code threads} (0: one per available processor). */
  public SideBySideEvaluator() {
    this.threadsOverride = 0;
  }

  /**
   * Uses a fixed intra-op thread count, whatever the block says.
   *
   * @param threads threads per model (> 0)
   */
  public SideBySideEvaluator(int threads) {
    if (threads <= 0) {
      throw new IllegalArgumentException("threads must be > 0, found " + threads);
    }
    this.threadsOverride = threads;
  }

  /** Untimed runs of each model before timing: {@code max(2, iterations / 10)}. */
  public static int warmupRuns(int iterations) {
    return Math.max(2, iterations / 10);
  }

  /** The task metrics of {@code task} under their gate names. */
  static List<String> taskMetricNames(TaskKind task) {
    return switch (task) {
      case EMBEDDING_FIDELITY ->
          List.of("cosine.mean", "cosine.min", "nn.agreement", "nn10.overlap");
      case OPINION_SENTIMENT ->
          List.of(
              "sentiment.accuracy.original",
              "sentiment.accuracy.compressed",
              "sentiment.agreement");
      case CLASSIFICATION ->
          List.of(
              "top1.accuracy.original", "top1.accuracy.compressed", "top1.agreement", "logits.kl");
      case LOGITS -> List.of("top1.agreement", "logits.kl");
      case PERPLEXITY ->
          List.of(
              "perplexity.original",
              "perplexity.compressed",
              "perplexity.ratio",
              "nll.mean.original",
              "nll.mean.compressed",
              "top1.agreement",
              "logits.kl");
    };
  }

  /** The metrics an evaluation of {@code spec} produces, in report order (gate-able names). */
  public static List<String> metricNames(EvaluateSpec spec) throws ConfigException {
    TaskKind kind = TaskKind.parse(spec.task(), "evaluate.task");
    List<String> m = new ArrayList<>(taskMetricNames(kind));
    if (Pooling.parse(spec.pooling(), "evaluate.pooling", kind) == Pooling.NONE) {
      // Token-level comparison: no sentence vectors, so no nearest neighbours.
      m.removeAll(List.of("nn.agreement", "nn10.overlap"));
    }
    for (String prefix : latencyPrefixes(spec)) {
      for (String who : List.of("original", "compressed")) {
        for (String q : List.of("p50_ms", "p90_ms", "p99_ms")) {
          m.add(prefix + who + "." + q);
        }
      }
      m.add(prefix + "ratio");
    }
    if (!spec.latencyBatchSizes().isEmpty()) {
      m.add("latency.intra_op_threads");
    }
    m.addAll(List.of("size.original_bytes", "size.compressed_bytes", "size.ratio"));
    return List.copyOf(m);
  }

  private static List<String> latencyPrefixes(EvaluateSpec spec) {
    List<String> out = new ArrayList<>();
    for (int s : sequenceLengths(spec)) {
      for (int b : spec.latencyBatchSizes()) {
        out.add(prefix(spec, b, s));
      }
    }
    return out;
  }

  private static String prefix(EvaluateSpec spec, int batch, int seq) {
    return seq == spec.sequenceLength() || seq == 0
        ? "latency.b" + batch + "."
        : "latency.b" + batch + ".s" + seq + ".";
  }

  private static List<Integer> sequenceLengths(EvaluateSpec spec) {
    List<Integer> s = new ArrayList<>(List.of(spec.sequenceLength()));
    spec.sequenceLengths().stream().filter(x -> !s.contains(x)).forEach(s::add);
    return s;
  }

  /**
   * Checks {@code spec} without running anything: the task, engine, gates and sequence length.
   *
   * @return the parsed gates
   * @throws ConfigException listing every problem
   */
  public static List<Gate> validate(EvaluateSpec spec) throws ConfigException {
    List<String> problems = new ArrayList<>();
    if (!spec.latencyBatchSizes().isEmpty() && spec.sequenceLength() < 2) {
      problems.add(
          "evaluate.sequenceLength must be >= 2 for latency runs ([CLS] and [SEP] take two"
              + " tokens), found "
              + spec.sequenceLength());
    }
    if ("gpu".equals(spec.device())
        && !"djl".equals(spec.engine())
        && !OrtExecutor.cudaProviderAvailable()) {
      problems.add(OrtExecutor.noCudaProvider("evaluate.device:"));
    }
    try {
      LayerErrors.Mode.parse(spec.layerErrors(), "evaluate.layerErrors");
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    List<Gate> gates = List.of();
    try {
      gates = Gates.parse(spec.gates(), metricNames(spec));
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return gates;
  }

  /**
   * What {@link #evaluate} would refuse, checked before the passes run: {@link #validate}'s checks,
   * the data of the text tasks (a known built-in or a readable file with enough samples), the data
   * and labels files of the other tasks, and the tokenizer of a text task.
   */
  @Override
  public List<String> check(EvaluateSpec spec, Path original, String modelSpec)
      throws CompressionException {
    List<String> problems = new ArrayList<>();
    try {
      validate(spec);
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    TaskKind kind;
    try {
      kind = TaskKind.parse(spec.task(), "evaluate.task");
    } catch (ConfigException e) {
      return problems; // validate said so
    }
    boolean text = kind == TaskKind.EMBEDDING_FIDELITY || kind == TaskKind.OPINION_SENTIMENT;
    if (kind == TaskKind.PERPLEXITY
        && spec.data() != null
        && !spec.data().toLowerCase(java.util.Locale.ROOT).endsWith(".ids")) {
      // Text is tokenized as one stream with the model's tokenizer.
      try {
        TokenizerLocator.locate(modelSpec, original, spec.tokenizer(), "evaluate.tokenizer");
      } catch (ConfigException e) {
        e.problems().forEach(p -> problems.add("evaluate.task " + spec.task() + ": " + p));
      }
    }
    if (text) {
      try {
        int n = TextSamples.read(spec.data(), "evaluate.data").size();
        if (kind == TaskKind.EMBEDDING_FIDELITY && spec.samples() > n) {
          problems.add(
              "evaluate.samples: "
                  + spec.samples()
                  + " requested but "
                  + spec.data()
                  + " has only "
                  + n
                  + " samples");
        }
      } catch (ConfigException e) {
        problems.addAll(e.problems());
      }
      try {
        TokenizerLocator.locate(modelSpec, original);
      } catch (ConfigException e) {
        e.problems().forEach(p -> problems.add("evaluate.task " + spec.task() + ": " + p));
      }
    } else {
      missingFile(spec.data(), "evaluate.data").ifPresent(problems::add);
    }
    if (!spec.labels().isEmpty()) {
      missingFile(spec.labels(), "evaluate.labels").ifPresent(problems::add);
    }
    return problems;
  }

  private static Optional<String> missingFile(String source, String key) {
    if (source == null || source.isBlank() || BuiltinModels.isBuiltin(source)) {
      return Optional.empty();
    }
    return Files.exists(Path.of(source))
        ? Optional.empty()
        : Optional.of(key + ": no such file: " + source);
  }

  /** The measurement an evaluate block asks for. */
  BenchSpec benchSpec(EvaluateSpec spec, Path original, Path compressed, String modelSpec)
      throws ConfigException {
    TaskKind kind = TaskKind.parse(spec.task(), "evaluate.task");
    int threads =
        threadsOverride > 0
            ? threadsOverride
            : spec.threads() > 0 ? spec.threads() : Runtime.getRuntime().availableProcessors();
    EngineSpec engine =
        new EngineSpec(
            EngineKind.parse(spec.engine(), "evaluate.engine"),
            "gpu".equals(spec.device()) ? Device.GPU : Device.CPU,
            false,
            threads);
    LatencyPlan plan =
        new LatencyPlan(
            warmupRuns(spec.iterations()),
            spec.iterations(),
            Math.round(spec.timeBudgetSeconds() * 1000));
    return new BenchSpec(
        List.of(
            new BenchSpec.Variant("original", original),
            new BenchSpec.Variant("compressed", compressed)),
        modelSpec,
        Optional.of(
            new TaskSpec(
                kind,
                spec.data(),
                spec.samples(),
                spec.labels(),
                32,
                Pooling.parse(spec.pooling(), "evaluate.pooling", kind))),
        engine,
        plan,
        spec.latencyBatchSizes(),
        sequenceLengths(spec),
        false,
        spec.report().isEmpty()
            ? List.of()
            : LayerErrors.Mode.parse(spec.layerErrors(), "evaluate.layerErrors"),
        0L,
        spec.tokenizer());
  }

  @Override
  public EvaluationResult evaluate(
      EvaluateSpec spec, Path original, Path compressed, String modelSpec)
      throws CompressionException {
    return evaluate(spec, original, compressed, modelSpec, ProgressListener.NONE);
  }

  @Override
  public EvaluationResult evaluate(
      EvaluateSpec spec,
      Path original,
      Path compressed,
      String modelSpec,
      ProgressListener progress)
      throws CompressionException {
    List<Gate> gates = validate(spec);
    for (Path p : List.of(original, compressed)) {
      if (!Files.isRegularFile(p)) {
        throw new CompressionException("cannot evaluate: model file " + p + " does not exist");
      }
    }
    BenchSpec bench = benchSpec(spec, original, compressed, modelSpec);
    BenchReport r;
    try {
      r = new Bench(progress).run(bench);
    } catch (ConfigException e) {
      List<String> p = new ArrayList<>();
      for (String s : e.problems()) {
        p.add(s.startsWith("evaluate.") ? s : "evaluate." + s);
      }
      throw new ConfigException(p);
    }
    Map<String, Double> metrics = metrics(spec, r, bench.engine().threads());
    Map<String, String> identity = new LinkedHashMap<>();
    r.task()
        .ifPresent(
            t ->
                t.data()
                    .forEach(
                        (role, id) -> {
                          identity.put(role + ".source", id.source());
                          identity.put(role + ".count", Integer.toString(id.count()));
                          identity.put(role + ".sha256", id.sha256());
                        }));
    List<String> failures = Gates.failures(gates, metrics);
    List<GateResult> gateResults = new ArrayList<>();
    for (Gate g : gates) {
      Double v = metrics.get(g.metric());
      gateResults.add(
          new GateResult(
              g.metric(), g.describe(), v == null ? Double.NaN : v, v != null && g.passes(v)));
    }
    StringBuilder table = new StringBuilder();
    table
        .append(spec.task())
        .append(": original vs compressed")
        .append('\n')
        .append(BenchTable.render(r));
    for (Gate g : gates) {
      boolean failed = failures.stream().anyMatch(f -> f.startsWith(g.metric() + " "));
      table
          .append("gate ")
          .append(g.metric())
          .append(' ')
          .append(g.describe())
          .append(": ")
          .append(failed ? "FAILED" : "passed")
          .append('\n');
    }
    if (!spec.report().isEmpty()) {
      Path html = compressed.toAbsolutePath().resolveSibling(spec.report());
      String base = spec.report().replaceFirst("\\.html?$", "");
      Path json = compressed.toAbsolutePath().resolveSibling(base + ".json");
      try {
        HtmlReport.write(r, "compress evaluate: " + spec.task(), gateResults, html);
        JsonReport.write(r, gateResults, json);
      } catch (IOException e) {
        throw new CompressionException("cannot write the evaluation report " + html + ": " + e, e);
      }
      table.append("report: ").append(spec.report()).append(" and ").append(base).append(".json\n");
    }
    return new EvaluationResult(metrics, identity, table.toString(), failures);
  }

  private static Map<String, Double> metrics(EvaluateSpec spec, BenchReport r, int threads) {
    Map<String, Double> m = new LinkedHashMap<>();
    Map<String, Double> o = r.taskMetrics(0);
    Map<String, Double> c = r.taskMetrics(1);
    for (Map.Entry<String, Double> e : c.entrySet()) {
      if (COMPARATIVE.contains(e.getKey())) {
        m.put(e.getKey(), e.getValue());
      } else {
        m.put(e.getKey() + ".original", o.get(e.getKey()));
        m.put(e.getKey() + ".compressed", e.getValue());
      }
    }
    if (o.containsKey("perplexity") && c.containsKey("perplexity")) {
      m.put("perplexity.ratio", c.get("perplexity") / o.get("perplexity"));
    }
    for (LatencyPoint p : r.latency()) {
      String pre = prefix(spec, p.batch(), p.sequenceLength());
      for (int i = 0; i < 2; i++) {
        LatencyStats s = p.stats().get(i);
        String who = pre + (i == 0 ? "original." : "compressed.");
        m.put(who + "p50_ms", s.p50Ms());
        m.put(who + "p90_ms", s.p90Ms());
        m.put(who + "p99_ms", s.p99Ms());
      }
      m.put(pre + "ratio", p.p50Ratio(1));
    }
    if (!r.latency().isEmpty()) {
      m.put("latency.intra_op_threads", (double) threads);
    }
    long so = r.variants().get(0).bytes();
    long sc = r.variants().get(1).bytes();
    m.put("size.original_bytes", (double) so);
    m.put("size.compressed_bytes", (double) sc);
    m.put("size.ratio", (double) sc / so);
    return m;
  }
}
