package dev.compress.api.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.calibration.CalibrationLoader;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.graph.GraphCheck;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.ModelFiles;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pass.PassReport;
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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.stream.Stream;

/**
 * Runs a {@link PipelineSpec}: loads the model, checks every pass against it, loads calibration
 * data, applies the passes in order, writes the result atomically and evaluates it.
 *
 * <p>Output: {@code model.onnx} (plus {@code model.onnx.data} for models over 2 GiB), {@code
 * manifest.json} (tool, environment, input SHA-256, the fully resolved pipeline, seed, calibration
 * identity, pass reports, evaluation, output SHA-256) and {@code report.json} (pass reports and
 * evaluation). All of it is written into a hidden folder beside the target ({@code
 * .NAME.tmp-RANDOM}) and renamed into place only when complete, so a failed or interrupted run
 * leaves no partial output (see {@link #run}).
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

  /** A runner using every pass, calibration loader and evaluator on the class path. */
  public PipelineRunner() {
    this.registry = PassRegistry.load();
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
    this.registry = registry;
    this.calibrationLoaders = List.copyOf(calibrationLoaders);
    this.evaluators = List.copyOf(evaluators);
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
   * on the class path. Output directories are not checked (they are at the start of {@link #run}).
   *
   * @throws ConfigException listing every problem found
   * @throws CompressionException when the model cannot be read (e.g. {@link
   *     dev.compress.api.CorruptCheckpointException})
   */
  public ValidationReport validate(PipelineSpec spec) throws CompressionException, IOException {
    ModelFiles.Loaded loaded = loadModel(spec);
    return check(spec, loaded.model(), loaded.path());
  }

  /**
   * Runs the pipeline.
   *
   * <p>Order: the output directory is checked (an existing one is refused unless {@code overwrite}
   * in the options or the spec) and a staging folder is created beside it (an unwritable parent
   * fails here, before any work); the model is loaded and hashed; everything {@link #validate}
   * checks is checked; calibration data is loaded; passes run in order; the model, report and
   * manifest are written to the staging folder, evaluated there when the spec says so, then renamed
   * into place (an existing directory being replaced is renamed away first and deleted last). On
   * any failure, or a JVM shutdown (Ctrl-C), the staging folder is deleted and the target is left
   * as it was.
   *
   * @throws ConfigException for a problem with the spec, the model path or the output directory
   * @throws GateFailedException when an evaluation gate fails; thrown after the outputs are in
   *     place
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
   * byte-identical to the original run's.
   *
   * @param outputDir where to write; null for the directory the manifest's pipeline names
   * @throws ConfigException when the manifest cannot be read or its pipeline is invalid
   * @throws CompressionException when the input model's SHA-256 differs from the recorded one
   */
  public RunResult runFromManifest(Path manifest, Path outputDir, RunOptions options)
      throws CompressionException, IOException {
    JsonNode root;
    try {
      root = Manifest.read(manifest);
    } catch (NoSuchFileException e) {
      throw new ConfigException("no such manifest: " + manifest);
    } catch (JsonProcessingException e) {
      throw new ConfigException(
          "manifest " + manifest + " is not valid JSON: " + e.getOriginalMessage());
    }
    int version = root.path("manifestVersion").asInt(-1);
    if (version < 1 || version > Manifest.VERSION) {
      throw new ConfigException(
          "manifest "
              + manifest
              + ": manifestVersion "
              + root.path("manifestVersion")
              + " is not supported (this tool reads 1.."
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
    if (outputDir != null) {
      spec = spec.withOutput(new Output(outputDir, false));
    }
    return run(spec, options, sha);
  }

  private RunResult run(PipelineSpec spec, RunOptions options, String expectedSha)
      throws CompressionException, IOException {
    Instant started = Instant.now();
    Path target = spec.output().dir().toAbsolutePath().normalize();
    boolean overwrite = options.overwrite() || spec.output().overwrite();
    checkTarget(target, overwrite);
    PrintWriter out = options.out();
    try (StagingDirectory staging = StagingDirectory.create(target)) {
      ModelFiles.Loaded loaded = loadModel(spec);
      Path input = loaded.path().toAbsolutePath().normalize();
      if (input.startsWith(target)) {
        throw new ConfigException(
            "output.dir: "
                + target
                + " contains the input model "
                + input
                + "; write the output elsewhere");
      }
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
      check(spec, model, input);

      Optional<CalibrationSet> calibration = Optional.empty();
      if (spec.calibration().isPresent()) {
        CalibrationSpec cs = spec.calibration().get();
        calibration = Optional.of(loader(cs).orElseThrow().load(cs, model, input, spec.model()));
      }

      List<PassReport> reports = new ArrayList<>();
      for (int i = 0; i < spec.passes().size(); i++) {
        PassSpec ps = spec.passes().get(i);
        PassProvider<?> provider = registry.require(ps.type(), "passes[" + i + "].type");
        Pass<?> pass = PassRegistry.create(provider, ps.config());
        PassContext ctx =
            new PassContext(spec.seed(), calibration, Optional.empty(), options.progress());
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
      }

      Path dir = staging.dir();
      Path modelOut = dir.resolve(MODEL_FILE);
      OnnxWriter.write(model, modelOut);
      String outputSha = sha256(modelOut);

      Optional<EvaluationResult> evaluation = Optional.empty();
      if (spec.evaluate().isPresent()) {
        evaluation =
            Optional.of(
                evaluators()
                    .getFirst()
                    .evaluate(spec.evaluate().get(), input, modelOut, spec.model()));
      }

      Map<String, Object> output = new LinkedHashMap<>();
      output.put("dir", target.toString());
      output.put("model", MODEL_FILE);
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
              reports,
              evaluation,
              output,
              started,
              Instant.now()));
      staging.commit(overwrite);

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

  private ValidationReport check(PipelineSpec spec, ModelGraph model, Path modelFile)
      throws ConfigException {
    List<String> problems = new ArrayList<>();
    List<LinearLayer> layers = LinearLayers.of(model.graph());
    List<PassPlan> plans = new ArrayList<>();
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
      List<LinearLayer> selected;
      try {
        selected = ps.config().selection().select(layers);
      } catch (ConfigException e) {
        e.problems().forEach(p -> problems.add(key + "." + p));
        continue;
      }
      if (selected.isEmpty()) {
        problems.add(
            named
                + " selects no linear layer"
                + (layers.isEmpty() ? noLayers(model) : " (all are ignored)"));
      }
      Pass<?> pass = PassRegistry.create(provider, ps.config());
      if (pass instanceof PassValidation v && !selected.isEmpty()) {
        v.validate(model, selected).forEach(p -> problems.add(named + ": " + p));
      }
      plans.add(
          new PassPlan(
              i,
              ps.type(),
              provider.needsCalibration(),
              selected.stream().map(LinearLayer::name).toList()));
    }
    spec.calibration()
        .filter(cs -> loader(cs).isEmpty())
        .ifPresent(
            cs ->
                problems.add(
                    "calibration: no loader for kind '"
                        + cs.kind()
                        + "' on the classpath (add compress-runtime)"));
    if (spec.evaluate().isPresent() && evaluators().isEmpty()) {
      problems.add("evaluate: no evaluator on the classpath (add compress-evaluation)");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new ValidationReport(modelFile, layers.size(), plans);
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
      all = s.filter(Files::isRegularFile).sorted().toList();
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
