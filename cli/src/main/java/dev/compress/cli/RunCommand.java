package dev.compress.cli;

import dev.compress.api.ConfigException;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.pipeline.ConsoleProgress;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.RunOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code compress run PIPELINE.yaml} and {@code compress run --from-manifest M}. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run a compression pipeline: load the model, apply the passes in order, write model.onnx,"
          + " manifest.json and report.json atomically into the output directory, then evaluate.",
      "Exit codes: 0 ok, 2 usage/config error, 3 unreadable checkpoint, 4 evaluation gate"
          + " failed, 1 other."
    })
final class RunCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "PIPELINE",
      description =
          "Pipeline YAML (see sample-configs/); optional with --scheme, whose pipeline its keys"
              + " then change.")
  Path pipeline;

  @Option(
      names = "--scheme",
      paramLabel = "NAME",
      description =
          "Start from a named pipeline: w8a8, w8a8-dynamic, w4a16, fp8, edge (README, Presets)."
              + " Keys of PIPELINE, --set, --model and --output win over the scheme's;"
              + " validate --resolved prints the result.")
  String scheme;

  @Option(
      names = "--from-manifest",
      paramLabel = "MANIFEST",
      description =
          "Rerun the pipeline recorded in a manifest.json (same input model required); writes to"
              + " --output, or to the directory the manifest recorded. Does not evaluate again"
              + " unless --evaluate is given.")
  Path fromManifest;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "DIR",
      description =
          "Output directory (overrides the pipeline's output.dir; the output block may then be"
              + " left out).")
  Path output;

  @Option(names = "--overwrite", description = "Replace an existing output directory.")
  boolean overwrite;

  // ---- overrides of the pipeline (see README "Overriding a pipeline") ----

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description =
          "Override one key of the pipeline (repeatable, applied in order): passes[1].observer=minmax,"
              + " calibration.samples=64, seed=3, evaluate.gates.cosine.mean='>= 0.99'. VALUE is"
              + " YAML (a scalar or [a, b] / {k: v}); strings are taken as written.")
  List<String> sets = new ArrayList<>();

  @Option(
      names = "--model",
      paramLabel = "PATH",
      description =
          "The model to compress (a .onnx file or builtin:NAME), instead of the pipeline's.")
  String model;

  @Option(
      names = "--device",
      paramLabel = "DEVICE",
      description =
          "Where the passes run the model (calibration, GPTQ/AWQ, pruning, low-rank, training):"
              + " cpu, gpu (refused when DJL finds no GPU) or auto (the GPU if there is one). Overrides"
              + " the pipeline's device key; the evaluation's device is evaluate.device.")
  String device;

  @Option(names = "--no-evaluate", description = "Skip the pipeline's evaluate block.")
  boolean noEvaluate;

  @Option(
      names = "--evaluate",
      description =
          "With --from-manifest: evaluate again as the recorded pipeline says (reruns do not by"
              + " default).")
  boolean evaluate;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if ((pipeline == null && scheme == null) == (fromManifest == null)) {
      throw new ConfigException(
          "give either PIPELINE (or --scheme NAME) or --from-manifest MANIFEST (exactly one)");
    }
    requireDirectory(output, "--output");
    PrintWriter err = spec.commandLine().getErr();
    // The runner prints pass summaries, the evaluation table and the written files to out;
    // progress goes to stderr (a bar on a terminal, plain lines otherwise; none with --quiet).
    // Closing the progress ends a bar left by a failure, so the error starts on its own line.
    if (evaluate && noEvaluate) {
      throw new ConfigException("give --evaluate or --no-evaluate, not both");
    }
    try (ConsoleProgress bar = ConsoleProgress.forConsole(err)) {
      RunOptions options =
          RunOptions.defaults()
              .withOverwrite(overwrite)
              .withOut(out)
              .withWarnings(err)
              .withProgress(CompressCommand.quiet(spec) ? ProgressListener.NONE : bar);
      PipelineRunner runner = new PipelineRunner();
      PipelineRunner.Recorded recorded = null;
      PipelineSpec p;
      if (fromManifest != null) {
        recorded = runner.readManifest(fromManifest);
        p = recorded.spec().withOverrides(sets, runner.registry());
      } else {
        // --output stands in for a missing output block (set in the tree before binding).
        p = PipelineInput.load(pipeline, scheme, model, runner.registry(), sets, output, overwrite);
      }
      if (model != null) {
        p = p.withModel(model);
      }
      if (device != null) {
        try {
          p = p.withDevice(device);
        } catch (InvalidConfigException e) {
          throw new ConfigException(e.problems().stream().map(m -> "--" + m).toList());
        }
      }
      if (evaluate && p.evaluate().isEmpty()) {
        throw new ConfigException("--evaluate: the pipeline has no evaluate block");
      }
      if (noEvaluate || (fromManifest != null && !evaluate)) {
        p = p.withoutEvaluate();
      }
      if (recorded != null && output != null) {
        p = p.withOutput(new PipelineSpec.Output(output, false));
      }
      if (recorded != null) {
        runner.rerun(recorded.withSpec(p), options);
      } else {
        runner.run(p, options);
      }
    }
    out.flush();
    return CompressCommand.OK;
  }

  /** Refuses an empty directory option ({@code --output ""}), which would mean the current one. */
  static void requireDirectory(Path dir, String option) throws ConfigException {
    if (dir != null && dir.toString().isBlank()) {
      throw new ConfigException(option + " must name a directory, found '" + dir + "'");
    }
  }
}
