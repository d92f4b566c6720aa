package dev.compress.cli;

import dev.compress.api.ConfigException;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.ValidationReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "PIPELINE",
      description = "Pipeline YAML; optional with --scheme, whose pipeline its keys then change.")
  Path pipeline;

  @Option(
      names = "--scheme",
      paramLabel = "NAME",
      description =
          "Start from a named pipeline (w8a8, w8a8-dynamic, w4a16, fp8, edge), as run --scheme"
              + " does.")
  String scheme;

  @Option(
      names = "--resolved",
      description =
          "Print the checked pipeline with every default and the scheme expanded, as YAML that"
              + " compress run accepts unchanged (and nothing else on stdout).")
  boolean resolved;

  @Option(
      names = "--json",
      description =
          "Print one JSON object (schema compress/validate/v1): the plan, or the problems of an"
              + " invalid pipeline (still exit code 2 and the error line on stderr).")
  boolean json;

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
    if (json && resolved) {
      throw new ConfigException("give --json or --resolved, not both");
    }
    String name = PipelineInput.describe(pipeline, scheme);
    PipelineRunner runner = new PipelineRunner();
    ValidationReport report;
    PipelineSpec p;
    try {
      p = PipelineInput.load(pipeline, scheme, model, runner.registry(), sets, null, false);
      if (model != null) {
        p = p.withModel(model);
      }
      report = runner.validate(p);
    } catch (ConfigException e) {
      if (json) { // the problems for scripts; the error line on stderr and exit 2 as without --json
        Map<String, Object> d = JsonOutput.document("validate");
        d.put("pipeline", name);
        d.put("valid", false);
        d.put("problems", e.problems());
        JsonOutput.print(out, d);
      }
      throw e;
    }
    if (resolved) {
      out.print(p.toYaml());
      out.flush();
      return CompressCommand.OK;
    }
    if (json) {
      JsonOutput.print(out, json(name, report));
      return CompressCommand.OK;
    }
    out.printf("model %s: %d linear layers%n", report.modelFile(), report.linearLayers());
    for (ValidationReport.PassPlan plan : report.passes()) {
      out.printf(
          "passes[%d] %-20s %3d layers%s%n",
          plan.index(),
          plan.type(),
          plan.layers().size(),
          plan.needsCalibration() ? " (uses calibration data)" : "");
    }
    out.println("ok: " + name + " is valid");
    out.flush();
    return CompressCommand.OK;
  }

  static Map<String, Object> json(String pipeline, ValidationReport report) {
    Map<String, Object> d = JsonOutput.document("validate");
    d.put("pipeline", pipeline);
    d.put("valid", true);
    d.put("model", report.modelFile().toString());
    d.put("linearLayers", report.linearLayers());
    List<Map<String, Object>> passes = new ArrayList<>();
    for (ValidationReport.PassPlan plan : report.passes()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("index", plan.index());
      x.put("type", plan.type());
      x.put("needsCalibration", plan.needsCalibration());
      x.put("layers", plan.layers());
      passes.add(x);
    }
    d.put("passes", passes);
    return d;
  }
}
