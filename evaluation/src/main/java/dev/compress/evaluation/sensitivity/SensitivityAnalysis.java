package dev.compress.evaluation.sensitivity;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationLoader;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.Executor;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.io.ModelFiles;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.pipeline.EvaluateSpec;
import dev.compress.api.pipeline.PassRegistry;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.evaluation.task.Pooling;
import dev.compress.evaluation.task.TaskKind;
import dev.compress.evaluation.task.TaskOutcome;
import dev.compress.evaluation.task.TaskRunner;
import dev.compress.evaluation.task.TaskSpec;
import dev.compress.runtime.calibration.TokenizerLocator;
import dev.compress.runtime.ort.OrtExecutor;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Sensitivity analysis: for every unit of a model (a linear layer, or a transformer block) and
 * every probe (a pass at one setting, e.g. {@code wanda sparsity=0.5} or {@code gptq bits=4}), the
 * fidelity lost on held-out data when only that probe is applied to only that unit, the rest of the
 * model left float.
 *
 * <ol>
 *   <li>{@link #check} does everything that can fail on input before any work: loads the model
 *       once, binds every probe through the pass registry with the pipeline binder's checks (so a
 *       bad value is reported as the pass reports it, naming the key), checks that every {@code
 *       --units} selector matches, that passes needing calibration have a calibration block, and
 *       the evaluation block.
 *   <li>{@link #run} loads the calibration data once and hands the same set to every probe, runs
 *       the original model on the held-out data once (its outputs are kept and reused for every
 *       probe), and for each unit and probe takes {@link ModelGraph#copy()} of the loaded model
 *       (weights shared, nothing re-read), applies the pass with {@code targets} = the unit's
 *       layers, and measures the task of the pipeline's {@code evaluate} block (the
 *       model-against-original comparison of {@link TaskRunner}) in ONNX Runtime. Calibrated passes
 *       run the float model on the calibration data to capture their layer's input; those
 *       activations are the float model's for every probe (only the probed unit changes), so they
 *       are computed once and shared ({@link CachingExecutors}).
 * </ol>
 *
 * Loss per task: {@code embedding-fidelity} 1 - cosine.mean; {@code opinion-sentiment} 1 -
 * sentiment.agreement; {@code classification} the drop of top1.accuracy; {@code logits} logits.kl;
 * {@code perplexity} perplexity ratio - 1. Larger is more sensitive.
 */
public final class SensitivityAnalysis {
  /** The block number of a layer name (the first group), as the calibrated passes find blocks. */
  public static final String DEFAULT_BLOCK_PATTERN =
      "(?:^|[/.])(?:layer|layers|h|block|blocks)[._](\\d+)(?=[/._]|$)";

  /** Held-out data when the pipeline has no evaluate block. */
  public static final String DEFAULT_DATA = "builtin:heldout-sentences";

  /**
   * How the analysis runs.
   *
   * @param granularity what a unit is
   * @param units selectors (layer names or {@code re:REGEX}) of the units to analyse; empty for
   *     all. A block unit is kept when its name ({@code block 3}) or one of its layers matches
   * @param blockPattern regex whose first group numbers a layer's block
   * @param threads intra-op threads of ONNX Runtime (> 0)
   * @param progress receives one step per probe run (the CLI draws a bar with ETA)
   */
  public record Options(
      Granularity granularity,
      List<String> units,
      String blockPattern,
      int threads,
      ProgressListener progress) {
    /** Normalizes nulls. */
    public Options {
      granularity = granularity == null ? Granularity.LAYER : granularity;
      units = units == null ? List.of() : List.copyOf(units);
      blockPattern = blockPattern == null ? DEFAULT_BLOCK_PATTERN : blockPattern;
      threads = threads <= 0 ? Runtime.getRuntime().availableProcessors() : threads;
      progress = progress == null ? ProgressListener.NONE : progress;
    }

    /** Per layer, every layer, one thread per processor, no progress. */
    public static Options defaults() {
      return new Options(Granularity.LAYER, List.of(), DEFAULT_BLOCK_PATTERN, 0, null);
    }
  }

  /** A probe bound to its provider. */
  record Bound(Probe probe, PassProvider<?> provider) {}

  /**
   * A checked analysis, ready to {@link #run}.
   *
   * @param spec the pipeline (model, seed, calibration, evaluate)
   * @param loaded the model, read once
   * @param units the units, in graph order
   * @param probes the probes, bound
   * @param task the held-out task
   * @param tokenizer the model's tokenizer, for the text tasks
   * @param options how it runs
   */
  public record Checked(
      PipelineSpec spec,
      ModelFiles.Loaded loaded,
      List<SensitivityUnit> units,
      List<Bound> probes,
      TaskSpec task,
      Optional<Path> tokenizer,
      Options options) {
    /** The probes as given. */
    public List<Probe> probeList() {
      return probes.stream().map(Bound::probe).toList();
    }
  }

  private final PassRegistry registry;

  /** An analysis with the passes of {@code registry}. */
  public SensitivityAnalysis(PassRegistry registry) {
    this.registry = registry;
  }

  /**
   * The pipeline's passes as probes (their targets/ignore dropped: the analysis sets them); each
   * labelled by its type and the parameters that differ from the pass's defaults.
   */
  public List<Probe> probesOf(PipelineSpec spec) throws ConfigException {
    List<Probe> out = new ArrayList<>();
    List<Object> passes = list(spec.toMap().get("passes"));
    for (int i = 0; i < passes.size(); i++) {
      Map<String, Object> m = new LinkedHashMap<>(map(passes.get(i)));
      String type = (String) m.remove("type");
      Probe.RESERVED.forEach(m::remove);
      Map<String, Object> defaults = defaultsOf(type);
      Map<String, Object> changed = new LinkedHashMap<>();
      m.forEach(
          (k, v) -> {
            if (!String.valueOf(v).equals(String.valueOf(defaults.get(k)))) {
              changed.put(k, v);
            }
          });
      out.add(new Probe(Probe.label(type, changed), type, m, "passes[" + i + "]"));
    }
    return out;
  }

  private Map<String, Object> defaultsOf(String type) throws ConfigException {
    PassProvider<?> p = registry.require(type, "type");
    PipelineSpec s =
        PipelineSpec.builder()
            .model("unused.onnx")
            .pass(type, p.defaults())
            .output(Path.of("unused"))
            .registry(registry)
            .build();
    return map(list(s.toMap().get("passes")).get(0));
  }

  /**
   * Checks everything before any probe runs.
   *
   * @throws ConfigException listing every problem, each naming its option or key
   */
  public Checked check(PipelineSpec spec, List<Probe> probes, Options options)
      throws CompressionException, IOException {
    List<String> problems = new ArrayList<>();
    if (probes.isEmpty()) {
      problems.add("no probe: give --probe 'TYPE KEY=V1,V2' or list passes in the pipeline");
    }
    List<Bound> bound = new ArrayList<>();
    for (Probe p : probes) {
      Optional<PassProvider<?>> provider = registry.find(p.type());
      if (provider.isEmpty()) {
        problems.add(unknown(p));
        continue;
      }
      try {
        bind(spec, p, List.of());
      } catch (ConfigException e) {
        problems.addAll(e.problems());
        continue;
      }
      if (provider.get().needsTeacher()) {
        problems.add(
            p.source()
                + ": pass "
                + p.type()
                + " trains against a teacher and cannot probe one unit at a time");
        continue;
      }
      if (provider.get().needsCalibration() && spec.calibration().isEmpty()) {
        problems.add(
            p.source()
                + ": pass "
                + p.type()
                + " needs calibration data; add a calibration block to the pipeline"
                + " (calibration: {source: ...})");
      }
      bound.add(new Bound(p, provider.get()));
    }
    Pattern blocks;
    try {
      blocks = Pattern.compile(options.blockPattern());
      if (blocks.matcher("").groupCount() < 1) {
        problems.add(
            "--block-pattern must have a capture group for the block number, found "
                + options.blockPattern());
      }
    } catch (PatternSyntaxException e) {
      problems.add("--block-pattern is not a valid regex: " + e.getDescription());
      blocks = Pattern.compile(DEFAULT_BLOCK_PATTERN);
    }
    try {
      new LayerSelection(options.units(), List.of());
    } catch (dev.compress.api.pass.InvalidConfigException e) {
      e.problems().forEach(x -> problems.add("--units " + x.replaceFirst("^targets", "")));
    }
    EvaluateSpec eval = spec.evaluate().orElse(EvaluateSpec.defaults(DEFAULT_DATA));
    TaskKind kind = null;
    Pooling pooling = Pooling.MEAN;
    try {
      kind = TaskKind.parse(eval.task(), "evaluate.task");
      pooling = Pooling.parse(eval.pooling(), "evaluate.pooling", kind);
      if (pooling == Pooling.NONE) {
        problems.add("evaluate.pooling: none is not supported by the sensitivity analysis");
      }
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    ModelFiles.Loaded loaded;
    try {
      loaded = ModelFiles.load(spec.model());
    } catch (NoSuchFileException e) {
      throw new ConfigException("model: no such file: " + e.getFile());
    }
    List<SensitivityUnit> units = units(loaded.model(), options, blocks, problems);
    if (spec.calibration().isPresent()) {
      CalibrationSpec cs = spec.calibration().get();
      Optional<CalibrationLoader> l = loader(cs);
      if (l.isEmpty()) {
        problems.add("calibration: no loader for kind '" + cs.kind() + "' on the classpath");
      } else {
        problems.addAll(l.get().check(cs, loaded.model(), loaded.path(), spec.model()));
      }
    }
    if (spec.evaluate().isPresent()) {
      problems.addAll(
          new dev.compress.evaluation.SideBySideEvaluator()
              .check(spec.evaluate().get(), loaded.path(), spec.model()).stream()
                  .filter(p -> !p.startsWith("evaluate.gates"))
                  .toList());
    }
    Optional<Path> tokenizer = Optional.empty();
    boolean text = kind == TaskKind.EMBEDDING_FIDELITY || kind == TaskKind.OPINION_SENTIMENT;
    if (text || kind == TaskKind.PERPLEXITY) {
      try {
        tokenizer =
            TokenizerLocator.find(
                spec.model(), loaded.path(), eval.tokenizer(), "evaluate.tokenizer");
      } catch (ConfigException e) {
        problems.addAll(e.problems());
      }
      if (text && tokenizer.isEmpty()) {
        problems.add(
            "evaluate.task "
                + eval.task()
                + ": "
                + TokenizerLocator.missing(loaded.path(), "evaluate.tokenizer"));
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    TaskSpec task = new TaskSpec(kind, eval.data(), eval.samples(), eval.labels(), 32, pooling);
    return new Checked(spec, loaded, units, bound, task, tokenizer, options);
  }

  private String unknown(Probe p) {
    String near =
        registry.types().stream()
            .filter(t -> t.startsWith(p.type()) || p.type().startsWith(t))
            .findFirst()
            .map(t -> " (did you mean '" + t + "'?)")
            .orElse("");
    return p.source() + ": unknown pass '" + p.type() + "'; known: " + registry.types() + near;
  }

  private static List<SensitivityUnit> units(
      ModelGraph model, Options options, Pattern blocks, List<String> problems) {
    List<LinearLayer> layers = LinearLayers.of(model.graph());
    List<SensitivityUnit> all = new ArrayList<>();
    if (options.granularity() == Granularity.LAYER) {
      for (LinearLayer l : layers) {
        all.add(new SensitivityUnit(l.name(), List.of(l.name()), l.weightElements()));
      }
    } else {
      Map<String, List<LinearLayer>> by = new LinkedHashMap<>();
      for (LinearLayer l : layers) {
        Matcher m = blocks.matcher(l.name());
        String name = m.find() ? "block " + m.group(1) : l.name();
        by.computeIfAbsent(name, k -> new ArrayList<>()).add(l);
      }
      by.forEach(
          (name, ls) ->
              all.add(
                  new SensitivityUnit(
                      name,
                      ls.stream().map(LinearLayer::name).toList(),
                      ls.stream().mapToLong(LinearLayer::weightElements).sum())));
    }
    if (options.units().isEmpty()) {
      if (all.isEmpty()) {
        problems.add("model: no linear layer to analyse");
      }
      return all;
    }
    List<SensitivityUnit> kept = new ArrayList<>();
    for (String s : options.units()) {
      boolean any = all.stream().anyMatch(u -> matches(s, u));
      if (!any) {
        problems.add(
            "--units '"
                + s
                + "' matches no "
                + (options.granularity() == Granularity.LAYER ? "linear layer" : "block or layer")
                + " (e.g. '"
                + (all.isEmpty() ? "" : all.get(0).name())
                + "')");
      }
    }
    for (SensitivityUnit u : all) {
      if (options.units().stream().anyMatch(s -> matches(s, u))) {
        kept.add(u);
      }
    }
    return kept;
  }

  private static boolean matches(String selector, SensitivityUnit u) {
    return LayerSelection.matches(selector, u.name())
        || u.layers().stream().anyMatch(l -> LayerSelection.matches(selector, l));
  }

  /**
   * Binds a probe restricted to {@code targets} through the pipeline binder (the pass's own
   * validation included).
   *
   * @throws ConfigException with the pass's problems, each prefixed by the probe's source
   */
  PassConfig bind(PipelineSpec spec, Probe p, List<String> targets) throws ConfigException {
    Map<String, Object> tree = new LinkedHashMap<>();
    tree.put("apiVersion", PipelineSpec.API_VERSION);
    tree.put("kind", PipelineSpec.KIND);
    tree.put("model", spec.model());
    Map<String, Object> pass = new LinkedHashMap<>();
    pass.put("type", p.type());
    pass.putAll(p.params());
    pass.put("targets", targets);
    pass.put("ignore", List.of());
    tree.put("passes", List.of(pass));
    tree.put("output", Map.of("dir", "unused"));
    try {
      return PipelineSpec.fromData(tree, registry).passes().get(0).config();
    } catch (ConfigException e) {
      List<String> out = new ArrayList<>();
      for (String x : e.problems()) {
        out.add(p.source() + ": " + x.replaceFirst("^passes\\[0\\]\\.?:?\\s*", ""));
      }
      throw new ConfigException(out);
    }
  }

  /**
   * Runs every probe on every unit.
   *
   * @throws CompressionException when a pass or the evaluation fails
   */
  public SensitivityResult run(Checked c) throws CompressionException {
    long t0 = System.nanoTime();
    PipelineSpec spec = c.spec();
    ModelGraph model = c.loaded().model();
    Optional<CalibrationSet> calibration = Optional.empty();
    if (spec.calibration().isPresent()) {
      CalibrationSpec cs = spec.calibration().get();
      calibration =
          Optional.of(loader(cs).orElseThrow().load(cs, model, c.loaded().path(), spec.model()));
    }
    List<ValueInfo> feeds = model.graph().feedInputs();
    List<SensitivityUnit> units = c.units();
    List<Bound> probes = c.probes();
    double[][] loss = new double[units.size()][probes.size()];
    String[][] skipped = new String[units.size()][probes.size()];
    Map<String, Double> baseline;
    CachingExecutors executors =
        new CachingExecutors(ExecutorFactory.capturing(), model, calibration);
    int total = units.size() * probes.size();
    ProgressListener progress = c.options().progress();
    List<LinearLayer> layers = LinearLayers.of(model.graph());
    try (Executor base =
        new MemoizingExecutor(
            OrtExecutor.builder()
                .setModelPath(c.loaded().path())
                .optIntraOpThreads(c.options().threads())
                .build())) {
      TaskOutcome ref = TaskRunner.run(c.task(), List.of(base), c.tokenizer(), feeds);
      baseline = ref.perVariant().get(0);
      progress.start("sensitivity", total, "probes");
      int done = 0;
      for (int u = 0; u < units.size(); u++) {
        SensitivityUnit unit = units.get(u);
        List<LinearLayer> selected =
            layers.stream().filter(l -> unit.layers().contains(l.name())).toList();
        for (int p = 0; p < probes.size(); p++) {
          Bound b = probes.get(p);
          PassConfig config = bind(spec, b.probe(), unit.layers());
          Pass<?> pass = create(b.provider(), config);
          List<String> why =
              pass instanceof PassValidation v ? v.validate(model, selected) : List.of();
          if (!why.isEmpty()) {
            loss[u][p] = Double.NaN;
            skipped[u][p] = String.join("; ", why);
          } else {
            ModelGraph m = model.copy();
            PassContext ctx =
                new PassContext(
                    spec.seed(),
                    calibration,
                    Optional.empty(),
                    ProgressListener.NONE,
                    executors,
                    Device.CPU);
            pass.apply(m, ctx);
            try (Executor e =
                OrtExecutor.builder()
                    .setModel(m)
                    .optIntraOpThreads(c.options().threads())
                    .build()) {
              TaskOutcome out = TaskRunner.run(c.task(), List.of(base, e), c.tokenizer(), feeds);
              loss[u][p] = loss(c.task().kind(), out.perVariant().get(0), out.perVariant().get(1));
            }
          }
          done++;
          progress.step("sensitivity", done, total, unit.name() + " " + b.probe().label());
        }
      }
      progress.finish("sensitivity");
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    return new SensitivityResult(
        spec.model(),
        c.task().kind().id() + " on " + c.task().samples() + " samples of " + c.task().data(),
        lossName(c.task().kind()),
        c.options().granularity(),
        units,
        c.probeList(),
        loss,
        skipped,
        baseline,
        calibration.map(s -> s.identity().toString()).orElse("none"),
        seconds,
        executors.hits(),
        executors.misses());
  }

  @SuppressWarnings("unchecked")
  private static <C extends PassConfig> Pass<C> create(PassProvider<C> provider, PassConfig c) {
    return provider.create(provider.configType().cast(c));
  }

  /** The loss's name for a task, as tables print it. */
  public static String lossName(TaskKind kind) {
    return switch (kind) {
      case EMBEDDING_FIDELITY -> "1 - cosine.mean";
      case OPINION_SENTIMENT -> "1 - sentiment.agreement";
      case CLASSIFICATION -> "top1.accuracy drop";
      case LOGITS -> "logits.kl";
      case PERPLEXITY -> "perplexity ratio - 1";
    };
  }

  /** The loss of a variant's metrics against the baseline's (larger: more sensitive). */
  static double loss(TaskKind kind, Map<String, Double> base, Map<String, Double> v) {
    return switch (kind) {
      case EMBEDDING_FIDELITY -> 1 - v.get("cosine.mean");
      case OPINION_SENTIMENT -> 1 - v.get("sentiment.agreement");
      case CLASSIFICATION -> base.get("top1.accuracy") - v.get("top1.accuracy");
      case LOGITS -> v.get("logits.kl");
      case PERPLEXITY -> v.get("perplexity") / base.get("perplexity") - 1;
    };
  }

  private static Optional<CalibrationLoader> loader(CalibrationSpec spec) {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    if (cl == null) {
      cl = SensitivityAnalysis.class.getClassLoader();
    }
    for (CalibrationLoader l : ServiceLoader.load(CalibrationLoader.class, cl)) {
      if (l.supports(spec)) {
        return Optional.of(l);
      }
    }
    return Optional.empty();
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    return (List<Object>) o;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }
}
