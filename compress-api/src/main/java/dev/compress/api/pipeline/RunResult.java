package dev.compress.api.pipeline;

import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.Evaluator.EvaluationResult;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What a pipeline run produced.
 *
 * @param outputDir the output directory, now in place
 * @param model the compressed model, {@code outputDir/model.onnx}
 * @param manifest {@code outputDir/manifest.json}
 * @param report {@code outputDir/report.json}
 * @param inputSha256 SHA-256 of the input model file (hex)
 * @param outputSha256 SHA-256 of the written model file (hex)
 * @param passes each pass's report, in order
 * @param evaluation the evaluation, when the spec has an {@code evaluate} block
 */
public record RunResult(
    Path outputDir,
    Path model,
    Path manifest,
    Path report,
    String inputSha256,
    String outputSha256,
    List<PassReport> passes,
    Optional<EvaluationResult> evaluation) {
  /** Copies the list. */
  public RunResult {
    passes = List.copyOf(passes);
  }
}
