package dev.compress.api.pipeline;

import dev.compress.api.CompressionException;
import dev.compress.api.pass.ProgressListener;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Measures an original and a compressed model side by side for the pipeline's {@code evaluate}
 * block. Found through {@link java.util.ServiceLoader} (the evaluation module provides it); the
 * same code backs {@code compress eval}.
 */
public interface Evaluator {
  /**
   * Runs the evaluation.
   *
   * @param spec the evaluate block
   * @param original the original model file
   * @param compressed the compressed model file
   * @param modelSpec the model argument as given ({@code builtin:NAME} or a path), to find a
   *     tokenizer
   * @return the metrics and a printable table
   */
  EvaluationResult evaluate(EvaluateSpec spec, Path original, Path compressed, String modelSpec)
      throws CompressionException;

  /**
   * Runs the evaluation, reporting its steps to {@code progress} (the evaluation takes from seconds
   * to minutes); by default the same as {@link #evaluate(EvaluateSpec, Path, Path, String)} without
   * progress.
   */
  default EvaluationResult evaluate(
      EvaluateSpec spec,
      Path original,
      Path compressed,
      String modelSpec,
      ProgressListener progress)
      throws CompressionException {
    return evaluate(spec, original, compressed, modelSpec);
  }

  /**
   * Checks an evaluate block before anything runs ({@code validate}, and {@code run} before its
   * first pass), so that what {@link #evaluate} would refuse after the passes is reported first:
   * gate names and bounds, the data, the model's tokenizer. The default finds no problem.
   *
   * @param spec the evaluate block
   * @param original the original model file
   * @param modelSpec the model argument as given
   * @return one line per problem, each naming its key ({@code evaluate.gates.cosin.min: ...});
   *     empty when all is well
   * @throws CompressionException when a check itself fails (e.g. a built-in file cannot be read)
   */
  default List<String> check(EvaluateSpec spec, Path original, String modelSpec)
      throws CompressionException {
    return List.of();
  }

  /**
   * The outcome of an evaluation.
   *
   * @param metrics metric name to value, e.g. {@code cosine.mean}, {@code latency.b1.ratio}
   * @param dataIdentity for each dataset used, its identity (source, count, SHA-256)
   * @param table a human-readable side-by-side table
   * @param gateFailures one line per failed gate (empty when all pass or none are set)
   */
  record EvaluationResult(
      Map<String, Double> metrics,
      Map<String, String> dataIdentity,
      String table,
      List<String> gateFailures) {}
}
