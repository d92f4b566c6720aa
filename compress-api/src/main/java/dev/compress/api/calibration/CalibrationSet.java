package dev.compress.api.calibration;

import dev.compress.api.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Calibration data ready to feed a model: a list of input batches (each a map from graph input name
 * to tensor) and the identity recorded in the manifest.
 *
 * @param batches model inputs, one map per batch
 * @param identity where the samples came from and their hash
 */
public record CalibrationSet(List<Map<String, Tensor>> batches, CalibrationIdentity identity) {
  /** Copies the list. */
  public CalibrationSet {
    batches = List.copyOf(batches);
  }
}
