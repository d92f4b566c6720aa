package dev.compress.cli;

import dev.compress.evaluation.bench.BenchSpec;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code compress eval ORIGINAL COMPRESSED --task ...}: one compressed model against its original.
 */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description = {
      "Measure a compressed model against its original in one process: the task's accuracy and"
          + " fidelity, latency (interleaved), memory, size and per-layer error.",
      "Prints a table and writes report.json and a self-contained report.html to --output"
          + " (default out/report; a folder that already holds files needs --overwrite).",
      "Example: compress eval builtin:all-minilm-l6-v2 out/quickstart/model.onnx --task opinion-sentiment"
    })
final class EvalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "ORIGINAL",
      description = "The original model (file or builtin:NAME).")
  String original;

  @Parameters(index = "1", paramLabel = "COMPRESSED", description = "The compressed model file.")
  String compressed;

  @Mixin MeasureOptions options;

  @Override
  public Integer call() throws Exception {
    List<BenchSpec.Variant> v =
        MeasureOptions.variants(List.of(original, compressed), List.of("original", "compressed"));
    BenchSpec bench =
        options.spec(
            v,
            original,
            options.hasTokenizer(original, v.get(0).path())
                ? Optional.of("embedding-fidelity")
                : Optional.empty());
    return options.run(bench, "compress eval: " + original + " vs " + compressed, spec);
  }
}
