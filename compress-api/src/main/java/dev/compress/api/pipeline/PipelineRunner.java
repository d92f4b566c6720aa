package dev.compress.api.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.OutOfMemoryException;
import dev.compress.api.calibration.CalibrationLoader;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.exec.Device;
import dev.compress.api.exec.ExecutorFactory;
import dev.compress.api.graph.GraphCheck;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.ModelFiles;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.pipeline.Evaluator.EvaluationResult;
import dev.compress.api.pipeline.PipelineSpec.Output;
import dev.compress.api.pipeline.PipelineSpec.PassSpec;
import dev.compress.api.pipeline.ValidationReport.PassPlan;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Runs a {@link PipelineSpec}: loads the model, checks every pass against it, loads calibration
 * data, applies the passes in order, writes the result atomically and evaluates it.
 *
 * <p>Output: {@code model.onnx} (plus {@code model.onnx.data} for models over 2 GiB), {@code
 * manifest.json} (tool, environment, input SHA-256, the fully resolved pipeline, seed, the device
 * the passes ran on, calibration identity, pass reports, evaluation, output SHA-256) and {@code
 * report.json} (pass reports and evaluation). All of it is written into a hidden folder beside the
 * target ({@code .NAME.tmp-RANDOM}) and renamed into place only when complete, so a failed or
 * interrupted run leaves no partial output (see {@link #run}).
 *
 * <p>Passes, calibration loaders and evaluators are found through {@link ServiceLoader} by the
 * no-argument constructor, or given explicitly. A runner holds no per-run state; one instance may
 * run several pipelines, one after another or concurrently.
 */
public final class PipelineRunner {
  /** The model file name in the output directory. */
  public static final String MODEL_FILE = "model.onnx";

  /** The manifest file name in the output directory. */
  public static final String MANIFEST_FILE = "manifest.json";

  /** The report file name in the output directory. */
  public static final String REPORT_FILE = "report.json";

  private final PassRegistry registry;
  private volatile List<CalibrationLoader> calibrationLoaders;
  private volatile List<Evaluator> evaluators;

  /** The engine passes run the model on; null: the installed capturing engine, found per run. */
  private final ExecutorFactory executors;

  /** A runner using every pass, calibration loader and evaluator on the class path. */
  public PipelineRunner() {
    this.registry = PassRegistry.load();
    this.executors = null;
  }

  /**
   * A runner using exactly these services.
   *
   * @param registry the passes
   * @param calibrationLoaders tried in order; the first that supports a calibration block loads it
   * @param evaluators the first one runs a pipeline's {@code evaluate} block
   */
  public PipelineRunner(
      PassRegistry registry,
      List<CalibrationLoader> calibrationLoaders,
      List<Evaluator> evaluators) {
    this(registry, calibrationLoaders, evaluators, null);
  }

  /**
   * A runner using exactly these services and this engine for the passes.
   *
   * @param executors builds the executors passes run the model on and says which devices it can use
   *     ({@code device: gpu}/{@code auto} ask it); null for the installed capturing engine
   */
  public PipelineRunner(
      PassRegistry registry,
      List<CalibrationLoader> calibrationLoaders,
      List<Evaluator> evaluators,
      ExecutorFactory executors) {
    this.registry = registry;
    this.calibrationLoaders = List.copyOf(calibrationLoaders);
    this.evaluators = List.copyOf(evaluators);
    this.executors = executors;
  }

  /** The passes this runner knows. */
  public PassRegistry registry() {
    return registry;
  }

  /**
   * Checks a pipeline against its model without running it: the model loads; every pass type is
   * known and its config is of the right type; every {@code targets}/{@code ignore} selector
   * matches a layer and each pass selects at least one; passes that implement {@link
   * PassValidation} accept their layers; passes that need calibration data have a {@code
   * calibration} block; a loader for that block and an evaluator for an {@code evaluate} block are
   * on the class path, and each accepts its block ({@link CalibrationLoader#check}, {@link
   * Evaluator#check}: data, tokenizer, gate names and bounds). {@link #run} makes the same checks
   * before its first pass, so a pipeline that validates is not refused later for its config. Output
   * directories are not checked (they are at the start of {@link #run}).
   *
   * @throws ConfigException listing every problem found
   * @throws CompressionException when the model cannot be read (e.g. {@link
   *     dev.compress.api.CorruptCheckpointException})
   */
  public ValidationReport validate(PipelineSpec spec) throws CompressionException, IOException {
    ModelFiles.Loaded loaded = loadModel(spec);
    return check(spec, loaded.model(), loaded.path(), executors());
  }

  /**
   * Runs the pipeline.
   *
   * <p>Order: the output directory is checked (an existing one is refused unless {@code overwrite}
   * in the options or the spec); the model is loaded; an output directory that holds any file the
   * run reads (the model, its external-data files, its tokenizer, the calibration and evaluation
   * files; compared by real path and file identity, so links are seen through) is refused; stale
   * staging folders of interrupted runs for the same target are removed and a staging folder is
   * created beside it (an unwritable parent fails here, before any pass runs); the model is hashed;
   * everything {@link #validate} checks is checked; calibration data is loaded; passes run in
   * order; the model, report and manifest are written to the staging folder, evaluated there when
   * the spec says so, then renamed into place (an existing directory being replaced is renamed away
   * first and deleted last). On any failure, or a JVM shutdown (Ctrl-C), the staging folder is
   * deleted and the target is left as it was.
   *
   * @throws ConfigException for a problem with the spec, the model path or the output directory
   * @throws GateFailedException when an evaluation gate fails; thrown after the outputs are in
   *     place
   * @throws OutOfMemoryException when the heap runs out, naming the step (loading the model, a
   *     pass, writing, evaluating); nothing is written
   * @throws CompressionException for an unreadable model or a failing pass
   */
  public RunResult run(PipelineSpec spec, RunOptions options)
      throws CompressionException, IOException {
    return run(spec, options, null);
  }

  /**
   * Reruns the pipeline recorded in a {@code manifest.json}: its fully resolved {@code pipeline}
   * with the output directed to {@code outputDir}. The input model must have the SHA-256 the
   * manifest recorded; a relative model path that no longer resolves falls back to the absolute
   * path recorded in {@code input.path}. With the same tool version the model written is
   * byte-identical to the original run's. Same as {@link #readManifest} then {@link #rerun}.
   *
   * @param outputDir where to write; null for the directory the manifest's pipeline names
   * @throws ConfigException when the manifest cannot be read or its pipeline is invalid
   * @throws CompressionException when the input model's SHA-256 differs from the recorded one
   */
  public RunResult runFromManifest(Path manifest, Path outputDir, RunOptions options)
      throws CompressionException, IOException {
    Recorded recorded = readManifest(manifest);
    if (outputDir != null) {
      recorded = recorded.withSpec(recorded.spec().withOutput(new Output(outputDir, false)));
    }
    return rerun(recorded, options);
  }

  /**
   * A pipeline recorded in a manifest, and the SHA-256 of the input model it was made from.
   *
   * @param spec the recorded pipeline (change it with {@link PipelineSpec#withOverrides}, {@link
   *     PipelineSpec#withoutEvaluate}, ... before {@link #rerun})
   * @param inputSha256 the SHA-256 the input model must have
   */
  public record Recorded(PipelineSpec spec, String inputSha256) {
    /** This record with another spec and the same required input. */
    public Recorded withSpec(PipelineSpec newSpec) {
      return new Recorded(newSpec, inputSha256);
    }
  }

  /**
   * Reads the pipeline a {@code manifest.json} recorded. A relative model path that no longer
   * resolves falls back to the absolute path recorded in {@code input.path}.
   *
   * @throws ConfigException when the manifest is missing, not JSON, of an unsupported {@code
   *     manifestVersion} (the message names the value found, or "missing"), or its pipeline is
   *     invalid
   */
  public Recorded readManifest(Path manifest) throws ConfigException, IOException {
    JsonNode root;
    try {
      root = Manifest.read(manifest);
    } catch (NoSuchFileException e) {
      throw new ConfigException("no such manifest: " + manifest);
    } catch (JsonProcessingException e) {
      throw new ConfigException(
          "manifest " + manifest + " is not valid JSON: " + e.getOriginalMessage());
    }
    JsonNode v = root.get("manifestVersion");
    int version = v != null && v.isIntegralNumber() && v.canConvertToInt() ? v.intValue() : -1;
    if (version < 1 || version > Manifest.VERSION) {
      throw new ConfigException(
          "manifest "
              + manifest
              + ": manifestVersion "
              + (v == null || v.isNull()
                  ? "is missing"
                  : RecordBinder.describe(v) + " is not supported")
              + " (this tool reads 1.."
              + Manifest.VERSION
              + ")");
    }
    PipelineSpec spec;
    try {
      spec = PipelineSpec.fromTree(root.get("pipeline"), registry);
    } catch (ConfigException e) {
      throw new ConfigException(
          e.problems().stream().map(p -> "manifest " + manifest + ": pipeline." + p).toList());
    }
    String sha = root.path("input").path("sha256").asText("");
    if (sha.isEmpty()) {
      throw new ConfigException("manifest " + manifest + ": input.sha256 is missing");
    }
    if (!BuiltinModels.isBuiltin(spec.model()) && !Files.exists(Path.of(spec.model()))) {
      String recorded = root.path("input").path("path").asText("");
      if (!recorded.isEmpty() && Files.exists(Path.of(recorded))) {
        spec = spec.withModel(recorded);
      }
    }
    return new Recorded(spec, sha);
  }

  /**
   * Runs a recorded pipeline as {@link #run} does, first checking that the input model has the
   * recorded SHA-256.
   *
   * @throws CompressionException when the input model's SHA-256 differs from the recorded one
   */
  public RunResult rerun(Recorded recorded, RunOptions options)
      throws CompressionException, IOException {
    return run(recorded.spec(), options, recorded.inputSha256());
  }

  private RunResult run(PipelineSpec spec, RunOptions options, String expectedSha)
      throws CompressionException, IOException {
    Instant started = Instant.now();
    Path target = spec.output().dir().toAbsolutePath().normalize();
    boolean overwrite = options.overwrite() || spec.output().overwrite();
    checkTarget(target, overwrite);
    PrintWriter out = options.out();
    Cancellation cancellation = options.cancellation();
    ProgressListener progress = cancellation.guard(options.progress());
    boolean committed = false;
    String step = "loading the model"; // named in an out-of-memory error or a cancellation
    ModelFiles.Loaded loaded;
    try {
      loaded = loadModel(spec);
    } catch (OutOfMemoryError e) {
      throw new OutOfMemoryException(step, e);
    }
    Path input = loaded.path().toAbsolutePath().normalize();
    InputGuard.check(target, inputs(spec, loaded));
    try (StagingDirectory staging = StagingDirectory.create(target)) {
      String inputSha = sha256(input);
      if (expectedSha != null && !expectedSha.equalsIgnoreCase(inputSha)) {
        throw new CompressionException(
            "input model "
                + input
                + " has SHA-256 "
                + inputSha
                + " but the manifest recorded "
                + expectedSha
                + "; it is not the model the manifest was made from");
      }
      ModelGraph model = loaded.model();
      ExecutorFactory executors = executors();
      Device device = check(spec, model, input, executors).device();
      if (!spec.device().equals(device.name().toLowerCase(Locale.ROOT))) {
        out.println(
            "device "
                + spec.device()
                + ": "
                + (device == Device.GPU
                    ? "the passes run on the GPU"
                    : "no GPU found by the "
                        + engineName(executors)
                        + " engine; the passes run"
                        + " on the CPU"));
      }

      Optional<CalibrationSet> calibration = Optional.empty();
      if (spec.calibration().isPresent()) {
        step = "loading the calibration data";
        CalibrationSpec cs = spec.calibration().get();
        calibration = Optional.of(loader(cs).orElseThrow().load(cs, model, input, spec.model()));
      }

      // The teacher: the input model before any pass, snapshotted once (structure copied, weights
      // shared) and only when a pass asks for it.
      Optional<ModelGraph> teacher = Optional.empty();
      for (PassSpec ps : spec.passes()) {
        if (registry.require(ps.type(), "passes[].type").needsTeacher()) {
          teacher = Optional.of(model.copy());
          break;
        }
      }
      List<PassReport> reports = new ArrayList<>();
      for (int i = 0; i < spec.passes().size(); i++) {
        PassSpec ps = spec.passes().get(i);
        step = "applying passes[" + i + "] (" + ps.type() + ")";
        cancellation.stopIfCancelled();
        PassProvider<?> provider = registry.require(ps.type(), "passes[" + i + "].type");
        Pass<?> pass = PassRegistry.create(provider, ps.config());
        PassContext ctx =
            new PassContext(
                spec.seed(),
                calibration,
                provider.needsTeacher() ? teacher : Optional.empty(),
                progress,
                executors,
                device);
        PassReport r;
        try {
          r = pass.apply(model, ctx);
        } catch (ConfigException e) {
          String key = "passes[" + i + "] (" + ps.type() + "): ";
          throw new ConfigException(e.problems().stream().map(p -> key + p).toList());
        }
        checkGraph(model, input, "passes[" + i + "] (" + ps.type() + ")");
        reports.add(r);
        out.printf(
            Locale.ROOT,
            "pass %d/%d %s: %d layers changed, %d skipped, %s -> %s, %.1f s%n",
            i + 1,
            spec.passes().size(),
            ps.type(),
            r.layersTouched().size(),
            r.layersSkipped().size(),
            bytes(r.bytesBefore()),
            bytes(r.bytesAfter()),
            r.elapsed() == null ? 0.0 : r.elapsed().toMillis() / 1000.0);
        out.flush();
        for (PassReport.Note n : r.warnings()) {
          options.warnings().println("warning: passes[" + i + "] (" + ps.type() + "): " + n.text());
        }
        options.warnings().flush();
      }

      Path dir = staging.dir();
      Path modelOut = dir.resolve(MODEL_FILE);
      step = "writing the model";
      cancellation.stopIfCancelled();
      if (spec.output().format().equals("hf")) {
        modelOut = HfOutput.write(spec, loaded, model, dir);
      } else if (OutputFormat.named(spec.output().format()) instanceof OutputFormat f) {
        Path source =
            dev.compress.api.io.hf.HfFolderReader.isHfFolder(Path.of(spec.model()))
                ? loaded.path().getParent()
                : loaded.path();
        modelOut = f.write(spec, model, source, dir);
      } else {
        OnnxWriter.write(model, modelOut);
      }
      String outputSha = sha256(modelOut);

      Optional<EvaluationResult> evaluation = Optional.empty();
      if (spec.evaluate().isPresent()) {
        step = "evaluating";
        cancellation.stopIfCancelled();
        evaluation = Optional.of(evaluate(spec, input, modelOut, model, dir, progress));
      }

      step = "writing the manifest";
      Map<String, Object> output = new LinkedHashMap<>();
      output.put("dir", target.toString());
      output.put("model", dir.relativize(modelOut).toString());
      output.put("format", spec.output().format());
      output.put("sha256", outputSha);
      output.put("bytes", Files.size(modelOut));
      output.put("files", files(dir));
      Manifest.write(dir.resolve(REPORT_FILE), Manifest.report(reports, evaluation));
      Manifest.write(
          dir.resolve(MANIFEST_FILE),
          Manifest.manifest(
              spec,
              input,
              inputSha,
              calibration.map(CalibrationSet::identity),
              device,
              reports,
              evaluation,
              output,
              started,
              Instant.now()));
      step = "committing the output";
      cancellation.stopIfCancelled();
      staging.commit(overwrite);
      committed = true;

      RunResult result =
          new RunResult(
              target,
              target.resolve(MODEL_FILE),
              target.resolve(MANIFEST_FILE),
              target.resolve(REPORT_FILE),
              inputSha,
              outputSha,
              reports,
              evaluation);
      evaluation.ifPresent(e -> out.println(e.table()));
      out.println(
          "wrote "
              + target
              + " ("
              + MODEL_FILE
              + " "
              + bytes((Long) output.get("bytes"))
              + ", "
              + MANIFEST_FILE
              + ", "
              + REPORT_FILE
              + ")");
      out.flush();
      List<String> failures =
          evaluation.map(EvaluationResult::gateFailures).orElse(List.of()).stream().toList();
      if (!failures.isEmpty()) {
        throw new GateFailedException(failures, result);
      }
      return result;
    } catch (OutOfMemoryError e) {
      // The staging folder is already deleted (closed above) and the heap the step held is free.
      throw new OutOfMemoryException(step, e);
    } catch (RuntimeException | CompressionException e) {
      // A cancelled step unwinds from a progress call; a pass may have wrapped that in its own
      // exception, so the token decides. The staging folder is already deleted (closed above).
      if (!committed && cancellation.isCancelled()) {
        throw new RunCancelledException(step);
      }
      throw e;
    }
  }

  /**
   * Runs the evaluate block on the input and the written model. The evaluator measures ONNX graphs:
   * for a Hugging Face folder model, the folder's graph as read and the compressed graph (unless
   * the output is already {@code model.onnx}) are written as ONNX into a folder inside the staging
   * folder {@code dir}, deleted afterwards (an HTML/JSON report is moved into {@code dir}); the
   * folder's {@code tokenizer.json} is the tokenizer unless {@code evaluate.tokenizer} names one.
   */
  private EvaluationResult evaluate(
      PipelineSpec spec,
      Path input,
      Path modelOut,
      ModelGraph model,
      Path dir,
      ProgressListener progress)
      throws CompressionException, IOException {
    EvaluateSpec es = spec.evaluate().orElseThrow();
    Evaluator evaluator = evaluators().getFirst();
    Path folder = Path.of(spec.model());
    if (!dev.compress.api.io.hf.HfFolderReader.isHfFolder(folder)) {
      return evaluator.evaluate(es, input, modelOut, spec.model(), progress);
    }
    Path tokenizer = folder.resolve("tokenizer.json");
    if (es.tokenizer().isEmpty() && Files.isRegularFile(tokenizer)) {
      es = es.toBuilder().tokenizer(tokenizer.toString()).build();
    }
    // Inside the staging folder (removed with it if the run dies), deleted before the manifest.
    Path work = Files.createTempDirectory(dir, ".evaluate.");
    try {
      Path original = work.resolve("original.onnx");
      OnnxWriter.write(loadModel(spec).model(), original);
      Path compressed = modelOut;
      if (!spec.output().format().equals("onnx")) {
        compressed = work.resolve(MODEL_FILE);
        OnnxWriter.write(model, compressed);
      }
      EvaluationResult r = evaluator.evaluate(es, original, compressed, spec.model(), progress);
      if (!es.report().isEmpty() && !compressed.equals(modelOut)) {
        String base = es.report().replaceFirst("\\.html?$", "");
        for (String f : List.of(es.report(), base + ".json")) {
          if (Files.exists(work.resolve(f))) {
            Files.move(work.resolve(f), dir.resolve(f));
          }
        }
      }
      return r;
    } finally {
      try (java.util.stream.Stream<Path> s = Files.walk(work)) {
        for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  // ---- checks ----

  /**
   * Why a model has no linear layer: none at all, or only inside subgraphs (If branches, Loop
   * bodies), which {@link LinearLayers} does not scan.
   */
  private static String noLayers(ModelGraph model) {
    Map<String, Integer> ops = new java.util.TreeMap<>();
    List<String> holders = new ArrayList<>();
    int total = 0;
    for (dev.compress.api.graph.Node n : model.graph().nodes()) {
      int before = total;
      for (dev.compress.api.graph.Graph sub : n.subgraphs()) {
        List<dev.compress.api.graph.Node> inside = new ArrayList<>(sub.nodes());
        inside.addAll(sub.subgraphNodes());
        for (dev.compress.api.graph.Node s : inside) {
          if (s.domain().isEmpty() && SUBGRAPH_LAYER_OPS.contains(s.opType())) {
            ops.merge(s.opType(), 1, Integer::sum);
            total++;
          }
        }
      }
      if (total > before) {
        holders.add("'" + n.name() + "' (" + n.opType() + ")");
      }
    }
    if (total == 0) {
      return " (the model has none)";
    }
    String where =
        holders.size() <= 3
            ? String.join(", ", holders)
            : String.join(", ", holders.subList(0, 3)) + " and " + (holders.size() - 3) + " more";
    return " (the main graph has none; "
        + total
        + " layer nodes "
        + ops
        + " sit in subgraphs of "
        + where
        + ", and subgraphs are not compressed yet)";
  }

  private static final java.util.Set<String> SUBGRAPH_LAYER_OPS =
      java.util.Set.of("MatMul", "Gemm", "Conv", "ConvTranspose", "LSTM", "GRU", "RNN");

  /** Stops a run whose pass broke the graph (a bug), before anything is written. */
  private static void checkGraph(ModelGraph model, Path input, String pass)
      throws CorruptCheckpointException {
    List<GraphCheck.Problem> errors = GraphCheck.errors(model);
    if (!errors.isEmpty()) {
      throw new CorruptCheckpointException(
          input,
          -1,
          pass
              + " left an invalid graph, nothing was written (a bug in the pass): "
              + GraphCheck.summary(errors));
    }
  }

  private static void checkTarget(Path target, boolean overwrite) throws ConfigException {
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
        throw new ConfigException(
            "output.dir: " + target + " exists and is not a directory; nothing was written");
      }
      if (!overwrite) {
        throw new ConfigException(
            "output.dir: "
                + target
                + " already exists; nothing was written (HINT: choose another directory, or"
                + " replace it with --overwrite / output.overwrite: true)");
      }
    }
  }

  /**
   * Every file the run reads by path: the model, its external-data files, a tokenizer beside it,
   * the calibration source and the evaluation data and labels (built-in data excluded).
   */
  private static List<InputGuard.Input> inputs(PipelineSpec spec, ModelFiles.Loaded loaded) {
    List<InputGuard.Input> in = new ArrayList<>();
    in.add(new InputGuard.Input("the input model", loaded.path()));
    for (Path p : loaded.externalDataFiles()) {
      in.add(new InputGuard.Input("the input model's external-data file", p));
    }
    Path modelDir = loaded.path().toAbsolutePath().getParent();
    if (modelDir != null) {
      String stem = loaded.path().getFileName().toString().replaceFirst("(?i)\\.onnx$", "");
      for (String name : List.of("tokenizer.json", stem + "-tokenizer.json")) {
        Path tok = modelDir.resolve(name);
        if (Files.isRegularFile(tok)) {
          in.add(new InputGuard.Input("the model's tokenizer", tok));
        }
      }
    }
    spec.calibration()
        .ifPresent(
            c -> {
              addFile(in, c.source(), "the calibration source (calibration.source)");
              addFile(in, c.labels(), "the calibration labels (calibration.labels)");
            });
    spec.evaluate()
        .ifPresent(
            e -> {
              addFile(in, e.data(), "the evaluation data (evaluate.data)");
              addFile(in, e.labels(), "the evaluation labels (evaluate.labels)");
            });
    return in;
  }

  private static void addFile(List<InputGuard.Input> in, String source, String what) {
    if (source == null || source.isBlank() || source.startsWith(BuiltinModels.PREFIX)) {
      return;
    }
    try {
      in.add(new InputGuard.Input(what, Path.of(source)));
    } catch (java.nio.file.InvalidPathException e) {
      // not a path: its loader reports it
    }
  }

  private static ModelFiles.Loaded loadModel(PipelineSpec spec)
      throws CompressionException, IOException {
    try {
      return ModelFiles.load(spec.model());
    } catch (NoSuchFileException e) {
      throw new ConfigException(
          "model: no such file: "
              + e.getFile()
              + " (HINT: give a path to an .onnx file or builtin:NAME, one of "
              + BuiltinModels.all().stream().map(b -> BuiltinModels.PREFIX + b.name()).toList()
              + ")");
    }
  }

  /** The engine for one run or validation: the given one, or the installed capturing engine. */
  private ExecutorFactory executors() {
    return executors != null ? executors : ExecutorFactory.lazyCapturing();
  }

  private static String engineName(ExecutorFactory executors) {
    try {
      return executors.engine();
    } catch (IllegalStateException e) {
      return "installed";
    }
  }

  /**
   * The device {@code spec.device()} resolves to: {@code cpu} without asking the engine; {@code
   * gpu} when the engine can use one, else a problem naming the key; {@code auto} the GPU when the
   * engine can use one, else the CPU. Null when there is a problem (added to {@code problems}).
   */
  private static Device device(
      PipelineSpec spec, ExecutorFactory executors, List<String> problems) {
    if (spec.device().equals("cpu")) {
      return Device.CPU;
    }
    boolean gpu;
    String why;
    try {
      gpu = executors.available(Device.GPU);
      why = "the " + executors.engine() + " engine finds no GPU on this machine";
    } catch (IllegalStateException e) { // no engine on the class path
      gpu = false;
      why = e.getMessage();
    }
    if (gpu) {
      return Device.GPU;
    }
    if (spec.device().equals("auto")) {
      return Device.CPU;
    }
    problems.add(
        "device: gpu, but "
            + why
            + " (HINT: device: auto runs on the GPU when there is one and on the CPU otherwise; a"
            + " CUDA libtorch is set up as README \"GPU\" says)");
    return null;
  }

  private ValidationReport check(
      PipelineSpec spec, ModelGraph model, Path modelFile, ExecutorFactory executors)
      throws CompressionException {
    List<String> problems = new ArrayList<>();
    Device device = device(spec, executors, problems);
    List<LinearLayer> layers = LinearLayers.of(model.graph());
    List<PassPlan> plans = new ArrayList<>();
    // Layers compressed in the input or by the passes so far (PassValidation#compresses).
    Set<String> compressed = new LinkedHashSet<>();
    LinearLayers.compressed(model.graph()).forEach(c -> compressed.add(c.name()));
    for (int i = 0; i < spec.passes().size(); i++) {
      PassSpec ps = spec.passes().get(i);
      String key = "passes[" + i + "]";
      String named = key + " (" + ps.type() + ")";
      Optional<PassProvider<?>> found = registry.find(ps.type());
      if (found.isEmpty()) {
        problems.add(registry.unknown(ps.type(), key + ".type"));
        continue;
      }
      PassProvider<?> provider = found.get();
      if (!provider.configType().isInstance(ps.config())) {
        problems.add(
            named
                + ": config "
                + ps.config().getClass().getName()
                + " is not the pass's "
                + provider.configType().getName());
        continue;
      }
      if (provider.needsCalibration() && spec.calibration().isEmpty()) {
        problems.add(
            named
                + " needs calibration data; add a calibration block (calibration: {source: ...})");
      }
      Pass<?> pass = PassRegistry.create(provider, ps.config());
      // The float layers as the passes before this one leave them.
      List<LinearLayer> live = layers.stream().filter(l -> !compressed.contains(l.name())).toList();
      boolean skips = pass instanceof PassValidation v && v.skipsCompressedLayers();
      List<LinearLayer> selected;
      try {
        selected = select(ps.config().selection(), live, compressed, skips);
      } catch (ConfigException e) {
        e.problems().forEach(p -> problems.add(key + "." + p));
        continue;
      }
      boolean onlyCompressed = picksAny(ps.config().selection(), compressed);
      if (selected.isEmpty() && !(skips && onlyCompressed)) {
        problems.add(
            named
                + " selects no linear layer"
                + (layers.isEmpty()
                    ? noLayers(model)
                    : onlyCompressed ? COMPRESSED_HINT : " (all are ignored)"));
      }
      if (pass instanceof PassValidation v && !selected.isEmpty()) {
        v.validate(model, selected).forEach(p -> problems.add(named + ": " + p));
        compressed.addAll(v.compresses(selected));
      }
      plans.add(
          new PassPlan(
              i,
              ps.type(),
              provider.needsCalibration(),
              selected.stream().map(LinearLayer::name).toList()));
    }
    if (spec.calibration().isPresent()) {
      CalibrationSpec cs = spec.calibration().get();
      Optional<CalibrationLoader> l = loader(cs);
      if (l.isEmpty()) {
        problems.add(
            "calibration: no loader for kind '"
                + cs.kind()
                + "' on the classpath (add compress-runtime)");
      } else {
        problems.addAll(l.get().check(cs, model, modelFile, spec.model()));
      }
    }
    if (spec.evaluate().isPresent()) {
      if (evaluators().isEmpty()) {
        problems.add("evaluate: no evaluator on the classpath (add compress-evaluation)");
      } else {
        problems.addAll(
            evaluators().getFirst().check(spec.evaluate().get(), modelFile, spec.model()));
      }
    }
    problems.addAll(HfOutput.problems(spec));
    if (OutputFormat.named(spec.output().format()) instanceof OutputFormat f) {
      problems.addAll(f.problems(spec));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new ValidationReport(modelFile, layers.size(), plans, device);
  }

  private static final String COMPRESSED_HINT =
      " that is still float: those it selects are compressed (quantized) in the model or by an"
          + " earlier pass. HINT: put this pass before the one that quantizes them";

  /**
   * {@code selection} over the float layers {@code live}. A selector matching none of them is an
   * error, unless {@code skips} and it matches a {@code compressed} layer (the pass skips those);
   * when it matches only compressed layers the error says so.
   */
  private static List<LinearLayer> select(
      LayerSelection selection, List<LinearLayer> live, Set<String> compressed, boolean skips)
      throws ConfigException {
    List<String> problems = new ArrayList<>();
    for (String key : List.of("targets", "ignore")) {
      List<String> selectors = key.equals("targets") ? selection.targets() : selection.ignore();
      for (int i = 0; i < selectors.size(); i++) {
        String s = selectors.get(i);
        if (live.stream().anyMatch(l -> LayerSelection.matches(s, l.name()))) {
          continue;
        }
        boolean matchesCompressed = compressed.stream().anyMatch(n -> LayerSelection.matches(s, n));
        if (!matchesCompressed) {
          problems.add(key + "[" + i + "] '" + s + "' matches no linear layer");
        } else if (!skips) {
          problems.add(key + "[" + i + "] '" + s + "' matches no linear layer" + COMPRESSED_HINT);
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return live.stream().filter(l -> picks(selection, l.name())).toList();
  }

  private static boolean picksAny(LayerSelection selection, Set<String> names) {
    return names.stream().anyMatch(n -> picks(selection, n));
  }

  private static boolean picks(LayerSelection sel, String name) {
    boolean in =
        sel.targets().isEmpty()
            || sel.targets().stream().anyMatch(s -> LayerSelection.matches(s, name));
    return in && sel.ignore().stream().noneMatch(s -> LayerSelection.matches(s, name));
  }

  // ---- services ----

  private Optional<CalibrationLoader> loader(CalibrationSpec spec) {
    return calibrationLoaders().stream().filter(l -> l.supports(spec)).findFirst();
  }

  private List<CalibrationLoader> calibrationLoaders() {
    if (calibrationLoaders == null) {
      calibrationLoaders = services(CalibrationLoader.class);
    }
    return calibrationLoaders;
  }

  private List<Evaluator> evaluators() {
    if (evaluators == null) {
      evaluators = services(Evaluator.class);
    }
    return evaluators;
  }

  private static <S> List<S> services(Class<S> type) {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    if (cl == null) {
      cl = PipelineRunner.class.getClassLoader();
    }
    List<S> out = new ArrayList<>();
    ServiceLoader.load(type, cl).forEach(out::add);
    return List.copyOf(out);
  }

  // ---- files ----

  /** SHA-256 of a file, hex, read in 1 MiB chunks (never the whole file on the heap). */
  static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      while (ch.read(buf) >= 0) {
        buf.flip();
        md.update(buf);
        buf.clear();
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static List<Map<String, Object>> files(Path dir) throws IOException {
    List<Path> all;
    try (Stream<Path> s = Files.list(dir)) {
      all =
          s.filter(Files::isRegularFile)
              .filter(p -> !p.getFileName().toString().equals(StagingDirectory.MARKER))
              .sorted()
              .toList();
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (Path p : all) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", p.getFileName().toString());
      m.put("bytes", Files.size(p));
      m.put("sha256", sha256(p));
      out.add(m);
    }
    return out;
  }

  private static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    if (n < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
    }
    return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
  }
}
