package dev.compress.cli;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.exec.Device;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.pipeline.ConsoleProgress;
import dev.compress.evaluation.bench.Bench;
import dev.compress.evaluation.bench.BenchReport;
import dev.compress.evaluation.bench.BenchSpec;
import dev.compress.evaluation.bench.BenchTable;
import dev.compress.evaluation.engine.EngineKind;
import dev.compress.evaluation.engine.EngineSpec;
import dev.compress.evaluation.latency.LatencyPlan;
import dev.compress.evaluation.layers.LayerErrors;
import dev.compress.evaluation.report.HtmlReport;
import dev.compress.evaluation.report.JsonReport;
import dev.compress.evaluation.task.Pooling;
import dev.compress.evaluation.task.TaskKind;
import dev.compress.evaluation.task.TaskSpec;
import dev.compress.runtime.calibration.TokenizerLocator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** The measurement options shared by {@code compress eval} and {@code compress bench}. */
final class MeasureOptions {
  @Option(
      names = "--task",
      paramLabel = "TASK",
      description =
          "Accuracy/fidelity task: embedding-fidelity, opinion-sentiment, classification, logits,"
              + " perplexity, or none.")
  String task;

  @Option(
      names = "--data",
      paramLabel = "SOURCE",
      description =
          "Task data: a file or builtin:NAME (default: builtin:heldout-sentences for"
              + " embedding-fidelity and perplexity, builtin:opinion-lexicon for"
              + " opinion-sentiment).")
  String data;

  @Option(
      names = "--labels",
      paramLabel = "FILE",
      description = "Labels for classification when the data holds none (IDX, JSON, one per line).")
  String labels = "";

  @Option(
      names = "--samples",
      paramLabel = "N",
      description =
          "Task samples to use (default: 300 for embedding-fidelity and perplexity, 2000 for"
              + " opinion-sentiment, up to 1000 for classification and logits).")
  Integer samples;

  @Option(
      names = "--engine",
      paramLabel = "ENGINE",
      description =
          "onnxruntime (default; the deployment number) or djl (DJL PyTorch interpreter).",
      defaultValue = "onnxruntime")
  String engine;

  @Option(
      names = "--device",
      paramLabel = "DEVICE",
      description =
          "cpu (default) or gpu: ONNX Runtime's CUDA provider (a build with -Pgpu), or engine"
              + " djl on a GPU DJL finds.",
      defaultValue = "cpu")
  String device;

  @Option(names = "--half", description = "Ask for half precision (refused with a reason today).")
  boolean half;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Intra-op threads per model (default: one per processor).")
  int threads;

  @Option(
      names = "--batch-sizes",
      split = ",",
      paramLabel = "B",
      description = "Latency sweep batch sizes (default: ${DEFAULT-VALUE}; 0 for no latency).",
      defaultValue = "1,8")
  List<Integer> batchSizes;

  @Option(
      names = "--seq-lengths",
      split = ",",
      paramLabel = "S",
      description = "Latency sweep sequence lengths for token inputs (default: ${DEFAULT-VALUE}).",
      defaultValue = "128")
  List<Integer> seqLengths;

  @Option(
      names = "--iterations",
      paramLabel = "N",
      description = "Most timed runs per model and point (default: ${DEFAULT-VALUE}).",
      defaultValue = "30")
  int iterations;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      description = "Untimed runs per model and point (default: max(2, iterations/10)).")
  Integer warmup;

  @Option(
      names = "--time-budget",
      paramLabel = "SECONDS",
      description = "Stop timing a point after this long (default: none).",
      defaultValue = "0")
  double timeBudget;

  @Option(names = "--no-memory", description = "Skip the per-model memory measurement.")
  boolean noMemory;

  @Option(names = "--no-layers", description = "Skip the per-layer error measurement.")
  boolean noLayers;

  /** Where the reports go without {@code --output}. */
  static final Path DEFAULT_OUTPUT = Path.of("out/report");

  // ---- pooling, tokenizer and per-layer error mode ----

  @Option(
      names = "--pooling",
      paramLabel = "POOLING",
      description =
          "Embedding pooling for embedding-fidelity and opinion-sentiment: mean (default), cls (the"
              + " first token, e.g. BGE), none (embedding-fidelity: every token compared).",
      defaultValue = "mean")
  String pooling;

  @Option(
      names = "--tokenizer",
      paramLabel = "FILE",
      description =
          "The baseline's tokenizer.json (default: a built-in model's own, else"
              + " <model name>-tokenizer.json or tokenizer.json beside the model).")
  String tokenizer;

  @Option(
      names = "--layer-errors",
      paramLabel = "MODE",
      description =
          "Per-layer errors on samples of --data: accumulated (through the compressed network),"
              + " isolated (each layer alone, fed the original's input) or both (default).",
      defaultValue = "both")
  String layerErrors;

  /** Whether the baseline has a tokenizer: --tokenizer, a built-in model's, or one beside it. */
  boolean hasTokenizer(String model, Path file) throws CompressionException {
    return (tokenizer != null && !tokenizer.isBlank())
        || TokenizerLocator.find(model, file).isPresent();
  }

  // ---- end of pooling, tokenizer and per-layer error mode ----

  @Option(
      names = {"-o", "--output"},
      paramLabel = "DIR",
      description =
          "Folder for report.json and report.html (default: out/report). A folder that exists and"
              + " is not empty is refused unless --overwrite.")
  Path output;

  @Option(names = "--out", hidden = true, paramLabel = "DIR", description = "Old name of --output.")
  Path legacyOutput;

  @Option(
      names = "--overwrite",
      description =
          "Write into an existing --output folder, replacing its report.json and report.html"
              + " (other files are left alone).")
  boolean overwrite;

  @Option(
      names = "--json",
      description =
          "Print one JSON object on stdout instead of the table: schema compress/bench/v1 (or"
              + " compress/eval/v1) with the report (as report.json) and the files written.")
  boolean json;

  /** Resolves a model argument (a path or builtin:NAME) to its file. */
  static Path resolve(String model) throws CompressionException {
    return BuiltinModels.resolve(model);
  }

  /** A short label for a model argument: the folder of a model.onnx, else the file's base name. */
  static String label(String model, Path file) {
    if (BuiltinModels.isBuiltin(model)) {
      return model.substring(BuiltinModels.PREFIX.length());
    }
    String name = file.getFileName().toString();
    if (name.equals("model.onnx") && file.toAbsolutePath().getParent() != null) {
      return file.toAbsolutePath().getParent().getFileName().toString();
    }
    return name.replaceFirst("(?i)\\.onnx$", "");
  }

  BenchSpec spec(List<BenchSpec.Variant> variants, String modelSpec, Optional<String> defaultTask)
      throws ConfigException {
    if (iterations <= 0) {
      throw new ConfigException("--iterations must be > 0, found " + iterations);
    }
    if (samples != null && samples <= 0) {
      throw new ConfigException("--samples must be > 0, found " + samples);
    }
    if (timeBudget < 0) {
      throw new ConfigException("--time-budget must be >= 0, found " + timeBudget);
    }
    String t = task != null ? task : defaultTask.orElse("none");
    Optional<TaskSpec> taskSpec = Optional.empty();
    if (!t.equalsIgnoreCase("none")) {
      TaskKind kind = TaskKind.parse(t, "--task");
      String d = data != null ? data : TaskSpec.defaultData(kind);
      if (d.isEmpty()) {
        throw new ConfigException("--data is required for task " + kind.id());
      }
      int n = samples != null ? samples : TaskSpec.defaultSamples(kind);
      taskSpec =
          Optional.of(
              new TaskSpec(kind, d, n, labels, 32, Pooling.parse(pooling, "--pooling", kind)));
    }
    List<LayerErrors.Mode> layerModes =
        noLayers ? List.of() : LayerErrors.Mode.parse(layerErrors, "--layer-errors");
    String dev = device.toLowerCase(Locale.ROOT);
    if (!dev.equals("cpu") && !dev.equals("gpu")) {
      throw new ConfigException("--device must be cpu or gpu, found '" + device + "'");
    }
    int th = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    EngineSpec eng =
        new EngineSpec(
            EngineKind.parse(engine, "--engine"),
            dev.equals("gpu") ? Device.GPU : Device.CPU,
            half,
            th);
    List<Integer> bs = batchSizes.stream().filter(b -> b != 0).toList();
    for (int b : bs) {
      if (b < 0) {
        throw new ConfigException("--batch-sizes must be > 0, found " + b);
      }
    }
    for (int s : seqLengths) {
      if (s < 2) {
        throw new ConfigException("--seq-lengths must be >= 2, found " + s);
      }
    }
    LatencyPlan plan =
        new LatencyPlan(
            warmup != null ? warmup : Math.max(2, iterations / 10),
            iterations,
            Math.round(timeBudget * 1000));
    return new BenchSpec(
        variants,
        modelSpec,
        taskSpec,
        eng,
        plan,
        bs,
        seqLengths,
        !noMemory,
        layerModes,
        0L,
        tokenizer == null ? "" : tokenizer);
  }

  /**
   * Runs the bench, prints the title and the table (or with {@code --json} the JSON document of
   * schema {@code compress/COMMAND/v1}) on stdout and writes both reports; progress goes to stderr
   * (none with {@code --quiet}). An {@code --output} that is refused is refused before any work.
   */
  int run(BenchSpec spec, String title, CommandSpec command)
      throws CompressionException, IOException {
    checkOutput();
    PrintWriter out = command.commandLine().getOut();
    PrintWriter err = command.commandLine().getErr();
    boolean quiet = CompressCommand.quiet(command);
    BenchReport r;
    if (quiet) {
      r = new Bench(ProgressListener.NONE).run(spec);
    } else {
      try (ConsoleProgress progress = ConsoleProgress.forConsole(err)) {
        r = new Bench(progress).run(spec);
      }
    }
    Files.createDirectories(out());
    Path jsonFile = out().resolve("report.json");
    Path html = out().resolve("report.html");
    JsonReport.write(r, jsonFile);
    HtmlReport.write(r, title, html);
    if (json) {
      Map<String, Object> d = JsonOutput.document(command.name());
      d.put("report", JsonReport.toMap(r));
      Map<String, Object> files = new LinkedHashMap<>();
      files.put("json", jsonFile.toString());
      files.put("html", html.toString());
      d.put("files", files);
      JsonOutput.print(out, d);
      return CompressCommand.OK;
    }
    out.println(title);
    out.print(BenchTable.render(r));
    out.println("wrote " + jsonFile + " and " + html);
    out.flush();
    return CompressCommand.OK;
  }

  /** The report folder: {@code --output}, or its old name {@code --out}, or the default. */
  Path out() throws ConfigException {
    if (output != null && legacyOutput != null && !output.equals(legacyOutput)) {
      throw new ConfigException(
          "--out is the old name of --output; give one of them, found --output "
              + output
              + " and --out "
              + legacyOutput);
    }
    Path dir = output != null ? output : legacyOutput != null ? legacyOutput : DEFAULT_OUTPUT;
    RunCommand.requireDirectory(dir, "--output");
    return dir;
  }

  /**
   * Refuses, before anything is measured or written, an {@code --output} that is a file, or a
   * folder with files in it unless {@code --overwrite}.
   */
  void checkOutput() throws ConfigException, IOException {
    Path dir = out();
    if (!Files.exists(dir)) {
      return;
    }
    if (!Files.isDirectory(dir)) {
      throw new ConfigException(
          "--output: " + dir + " exists and is not a directory; nothing was written");
    }
    boolean empty;
    try (Stream<Path> s = Files.list(dir)) {
      empty = s.findAny().isEmpty();
    }
    if (!empty && !overwrite) {
      throw new ConfigException(
          "--output: "
              + dir
              + " already exists; nothing was written (HINT: choose another folder, or replace"
              + " its reports with --overwrite)");
    }
  }

  static List<BenchSpec.Variant> variants(List<String> models, List<String> names)
      throws CompressionException {
    if (!names.isEmpty() && names.size() != models.size()) {
      throw new ConfigException(
          "--name given " + names.size() + " times for " + models.size() + " models");
    }
    List<BenchSpec.Variant> out = new ArrayList<>();
    for (int i = 0; i < models.size(); i++) {
      Path p = resolve(models.get(i));
      if (!Files.isRegularFile(p)) {
        throw new ConfigException("model: file not found: " + models.get(i));
      }
      out.add(new BenchSpec.Variant(names.isEmpty() ? label(models.get(i), p) : names.get(i), p));
    }
    return out;
  }
}
