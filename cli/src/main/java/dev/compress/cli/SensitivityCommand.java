package dev.compress.cli;

import dev.compress.api.ConfigException;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.pipeline.ConsoleProgress;
import dev.compress.api.pipeline.PassRegistry;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.evaluation.sensitivity.Granularity;
import dev.compress.evaluation.sensitivity.Probe;
import dev.compress.evaluation.sensitivity.SensitivityAnalysis;
import dev.compress.evaluation.sensitivity.SensitivityPlan;
import dev.compress.evaluation.sensitivity.SensitivityReport;
import dev.compress.evaluation.sensitivity.SensitivityResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code compress sensitivity PIPELINE.yaml --probe 'wanda sparsity=0.3,0.5,0.7' ...}. */
@Command(
    name = "sensitivity",
    mixinStandardHelpOptions = true,
    description = {
      "Per layer (or block), the fidelity lost on held-out data when only that unit is pruned or"
          + " quantized by one probe, the rest float. The pipeline gives the model, calibration"
          + " and the evaluate block (task and held-out data; embedding fidelity on"
          + " builtin:heldout-sentences without one); its passes are the probes unless --probe is"
          + " given.",
      "Prints the ranked table and writes sensitivity.json, sensitivity.csv, report.html (heat"
          + " map) and one suggested plan-*.yaml per probe family (a pipeline: compress validate"
          + " / run take it) into --output.",
      "Example: compress sensitivity p.yaml --probe 'magnitude-pruning sparsity=0.3,0.5,0.7'"
          + " --probe 'rtn-quantization bits=8,4' --target sparsity=0.5"
    })
final class SensitivityCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "PIPELINE",
      description = "Pipeline YAML (model, calibration, evaluate; passes as probes).")
  Path pipeline;

  @Option(
      names = "--model",
      paramLabel = "PATH",
      description = "The model (a .onnx file or builtin:NAME), instead of the pipeline's.")
  String model;

  @Option(
      names = "--probe",
      paramLabel = "'TYPE KEY=V1,V2 ...'",
      description =
          "A probe: a pass type and its parameters; commas sweep a key (repeatable), e.g."
              + " 'wanda sparsity=0.3,0.5,0.7', 'gptq bits=8,4,3', 'rtn-quantization bits=8'.")
  List<String> probes = new ArrayList<>();

  @Option(
      names = "--granularity",
      paramLabel = "UNIT",
      description = "layer (each linear layer) or block (the layers of one transformer block).")
  String granularity = "layer";

  @Option(
      names = "--units",
      paramLabel = "SELECTOR",
      description = "Analyse only these units: a layer name or re:REGEX (repeatable).")
  List<String> units = new ArrayList<>();

  @Option(
      names = "--block-pattern",
      paramLabel = "REGEX",
      description = "Regex whose first group numbers a layer's block (with --granularity block).")
  String blockPattern = SensitivityAnalysis.DEFAULT_BLOCK_PATTERN;

  @Option(
      names = "--target",
      paramLabel = "KEY=VALUE",
      description =
          "Target of the suggested plans: sparsity=0.5 (mean over the parameters) or bits=4.5"
              + " (mean bits, float counted as 32); without one, the median probe setting.")
  List<String> targets = new ArrayList<>();

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Override one key of the pipeline, as run --set does (repeatable).")
  List<String> sets = new ArrayList<>();

  @Option(
      names = {"-o", "--output"},
      paramLabel = "DIR",
      description = "Output directory (default out/sensitivity).")
  Path output = Path.of("out", "sensitivity");

  @Option(names = "--overwrite", description = "Replace an existing output directory.")
  boolean overwrite;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "ONNX Runtime intra-op threads (default: one per processor).")
  int threads;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    RunCommand.requireDirectory(output, "--output");
    if (Files.exists(output, LinkOption.NOFOLLOW_LINKS) && !overwrite) {
      throw new ConfigException(
          "--output: "
              + output
              + " already exists; nothing was written (HINT: choose another directory, or"
              + " replace it with --overwrite)");
    }
    if (threads < 0) {
      throw new ConfigException("--threads must be > 0, found " + threads);
    }
    PassRegistry registry = PassRegistry.load();
    List<Probe> given = new ArrayList<>();
    for (String p : probes) {
      given.addAll(Probe.parse(p));
    }
    Map<String, Double> target = targets();
    PipelineSpec p = load(registry, given);
    SensitivityAnalysis analysis = new SensitivityAnalysis(registry);
    List<Probe> all = given.isEmpty() ? analysis.probesOf(p) : given;
    SensitivityAnalysis.Checked checked;
    try (ConsoleProgress bar = ConsoleProgress.forConsole(err)) {
      SensitivityAnalysis.Options options =
          new SensitivityAnalysis.Options(
              Granularity.parse(granularity, "--granularity"),
              units,
              blockPattern,
              threads,
              CompressCommand.quiet(spec) ? ProgressListener.NONE : bar);
      checked = analysis.check(p, all, options);
      SensitivityResult r = analysis.run(checked);
      List<SensitivityPlan> plans =
          SensitivityPlan.suggest(r, p, registry, target, output.resolve("plans").toString());
      write(r, plans);
      out.print(r.table());
      for (SensitivityPlan plan : plans) {
        out.printf(
            java.util.Locale.ROOT,
            "plan %s: mean %s %.3f (target %.3f), %d of %d units, predicted loss %.4g%n",
            plan.family(),
            plan.key(),
            plan.reached(),
            plan.target(),
            plan.assignment().size(),
            r.units().size(),
            plan.predictedLoss());
      }
      out.printf(
          java.util.Locale.ROOT,
          "%d probe runs in %.1f s (calibration forward calls: %d shared, %d run)%n",
          r.units().size() * r.probes().size(),
          r.seconds(),
          r.cacheHits(),
          r.cacheMisses());
      out.println(
          "wrote "
              + output.toAbsolutePath().normalize()
              + " ("
              + String.join(", ", files(plans))
              + ")");
    }
    out.flush();
    return CompressCommand.OK;
  }

  /** The pipeline, or a tree made from --model; a placeholder pass when it has none. */
  private PipelineSpec load(PassRegistry registry, List<Probe> given)
      throws ConfigException, IOException {
    Map<String, Object> root = new LinkedHashMap<>();
    if (pipeline != null) {
      Object tree = PipelineSpec.readYaml(pipeline);
      if (!(tree instanceof Map<?, ?> m)) {
        throw new ConfigException(
            pipeline + ": must be a mapping of apiVersion, kind, model, passes, ...");
      }
      m.forEach((k, v) -> root.put(String.valueOf(k), v));
    } else {
      if (model == null) {
        throw new ConfigException("give PIPELINE or --model PATH");
      }
      root.put("apiVersion", PipelineSpec.API_VERSION);
      root.put("kind", PipelineSpec.KIND);
    }
    if (model != null) {
      root.put("model", model);
    }
    if (!given.isEmpty() || !root.containsKey("passes")) {
      if (given.isEmpty()) {
        throw new ConfigException(
            "no probe: give --probe 'TYPE KEY=V1,V2' or list passes in the pipeline");
      }
      // The probes replace the pipeline's passes; one placeholder keeps the spec valid.
      root.put("passes", List.of(Map.of("type", "magnitude-pruning")));
    }
    root.put("output", Map.of("dir", output.toString()));
    return PipelineSpec.fromData(root, registry, sets);
  }

  private Map<String, Double> targets() throws ConfigException {
    Map<String, Double> m = new LinkedHashMap<>();
    for (String t : targets) {
      int eq = t.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException("--target must be KEY=VALUE (sparsity=0.5, bits=4), found " + t);
      }
      try {
        m.put(t.substring(0, eq).trim(), Double.parseDouble(t.substring(eq + 1).trim()));
      } catch (NumberFormatException e) {
        throw new ConfigException(
            "--target " + t.substring(0, eq) + " must be a number, found " + t.substring(eq + 1));
      }
    }
    SensitivityPlan.checkTargets(m);
    return m;
  }

  private static List<String> files(List<SensitivityPlan> plans) {
    List<String> f = new ArrayList<>(List.of("sensitivity.json", "sensitivity.csv", "report.html"));
    for (SensitivityPlan p : plans) {
      f.add(planFile(p));
    }
    return f;
  }

  static String planFile(SensitivityPlan p) {
    return "plan-" + p.family().replaceAll("[^A-Za-z0-9.]+", "-").replaceAll("-+$", "") + ".yaml";
  }

  /** Writes everything into a staging folder beside --output, then renames it into place. */
  private void write(SensitivityResult r, List<SensitivityPlan> plans) throws IOException {
    Path target = output.toAbsolutePath().normalize();
    Path parent = target.getParent();
    Files.createDirectories(parent);
    Path tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp-");
    try {
      Files.writeString(tmp.resolve("sensitivity.json"), r.toJson(), StandardCharsets.UTF_8);
      Files.writeString(tmp.resolve("sensitivity.csv"), r.toCsv(), StandardCharsets.UTF_8);
      Files.writeString(
          tmp.resolve("report.html"), SensitivityReport.render(r, plans), StandardCharsets.UTF_8);
      for (SensitivityPlan p : plans) {
        Files.writeString(tmp.resolve(planFile(p)), p.yaml(), StandardCharsets.UTF_8);
      }
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        delete(target);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      if (Files.exists(tmp)) {
        delete(tmp);
      }
    }
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }
}
