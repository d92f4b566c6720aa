package dev.compress.api.calibration;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;
import java.nio.file.Path;

/**
 * Turns a pipeline's {@code calibration} block into model inputs. Found through {@link
 * java.util.ServiceLoader}; the first loader whose {@link #supports} accepts the spec is used (the
 * runtime module provides text, image and tensor-file loaders).
 */
public interface CalibrationLoader {
  /** Whether this loader handles {@code spec.kind()}. */
  boolean supports(CalibrationSpec spec);

  /**
   * Loads the samples.
   *
   * @param spec the calibration block
   * @param model the model the inputs are for (input names and types)
   * @param modelFile the model file (to find a tokenizer beside it); {@code builtin:} models
   *     resolve their own tokenizer
   * @param modelSpec the model argument as given ({@code builtin:NAME} or a path)
   */
  CalibrationSet load(CalibrationSpec spec, ModelGraph model, Path modelFile, String modelSpec)
      throws CompressionException;

  /**
   * Checks a calibration block against the model without loading the samples into tensors ({@code
   * validate}, and {@code run} before its first pass): what {@link #load} would refuse, such as a
   * missing source, too few samples, inputs the data cannot feed, a missing tokenizer. The default
   * finds no problem.
   *
   * @return one line per problem, each naming its key; empty when all is well
   * @throws CompressionException when a check itself fails
   */
  default java.util.List<String> check(
      CalibrationSpec spec, ModelGraph model, Path modelFile, String modelSpec)
      throws CompressionException {
    return java.util.List.of();
  }
}
