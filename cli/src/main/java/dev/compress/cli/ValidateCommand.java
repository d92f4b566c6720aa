package dev.compress.cli;

import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.ValidationReport;
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

/** {@code compress validate PIPELINE.yaml}: checks spec and model without running anything. */
@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    description = {
      "Check a pipeline without running it: unknown passes or keys, bad values, selectors that"
          + " match no layer, layers a pass cannot handle. Lists every problem at once."
    })
final class ValidateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "PIPELINE", description = "Pipeline YAML.")
  Path pipeline;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Override one key of the pipeline, as run --set does (repeatable).")
  List<String> sets = new ArrayList<>();

  @Option(names = "--model", paramLabel = "PATH", description = "Check against this model instead.")
  String model;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PipelineRunner runner = new PipelineRunner();
    PipelineSpec p = PipelineSpec.load(pipeline, runner.registry(), sets);
    if (model != null) {
      p = p.withModel(model);
    }
    ValidationReport report = runner.validate(p);
    out.printf("model %s: %d linear layers%n", report.modelFile(), report.linearLayers());
    for (ValidationReport.PassPlan plan : report.passes()) {
      out.printf(
          "passes[%d] %-20s %3d layers%s%n",
          plan.index(),
          plan.type(),
          plan.layers().size(),
          plan.needsCalibration() ? " (uses calibration data)" : "");
    }
    out.println("ok: " + pipeline + " is valid");
    out.flush();
    return CompressCommand.OK;
  }
}
