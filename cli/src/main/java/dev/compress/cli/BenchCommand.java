package dev.compress.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code compress bench MODEL...}: several variants side by side in one run. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measure model variants side by side in one process: size, memory, task accuracy and"
          + " fidelity, latency over batch sizes and sequence lengths (all variants interleaved),"
          + " per-layer error. The first MODEL is the baseline every ratio refers to.",
      "Prints a table and writes report.json and a self-contained report.html to --output"
          + " (default out/report; a folder that already holds files needs --overwrite).",
      "Example: compress bench builtin:all-minilm-l6-v2 out/quickstart/model.onnx"
          + " out/minilm-int4/model.onnx"
    })
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      arity = "1..*",
      paramLabel = "MODEL",
      description = "Model files or builtin:NAME; the first is the baseline.")
  List<String> models;

  @Option(
      names = "--name",
      paramLabel = "NAME",
      description =
          "A label per MODEL, in order (default: the folder of a model.onnx, else the file name).")
  List<String> names = new ArrayList<>();

  @Mixin MeasureOptions options;

  @Override
  public Integer call() throws Exception {
    var variants = MeasureOptions.variants(models, names);
    // Text encoders get embedding fidelity by default; others need --task.
    var bench =
        options.spec(
            variants,
            models.get(0),
            options.hasTokenizer(models.get(0), variants.get(0).path())
                ? Optional.of("embedding-fidelity")
                : Optional.empty());
    return options.run(bench, "compress bench: " + variants.size() + " variant(s)", spec);
  }
}
