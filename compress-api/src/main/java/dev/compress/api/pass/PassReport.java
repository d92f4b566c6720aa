package dev.compress.api.pass;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What a pass did.
 *
 * @param pass the pass type
 * @param layersTouched names of the layers changed
 * @param layersSkipped layers selected but deliberately left alone, with the reason
 * @param bytesBefore bytes of the touched layers' weights before
 * @param bytesAfter bytes of the touched layers' weights (and their quantization parameters) after
 * @param metrics error metrics by name (e.g. {@code mean_relative_weight_error}, {@code sparsity});
 *     per-layer metrics are keyed {@code layer/metric}
 * @param elapsed wall time of the pass
 */
public record PassReport(
    String pass,
    List<String> layersTouched,
    List<Skip> layersSkipped,
    long bytesBefore,
    long bytesAfter,
    Map<String, Double> metrics,
    Duration elapsed) {

  /**
   * A selected layer left alone.
   *
   * @param layer the layer name
   * @param reason why
   */
  public record Skip(String layer, String reason) {}

  /** Copies the collections. */
  public PassReport {
    layersTouched = List.copyOf(layersTouched);
    layersSkipped = List.copyOf(layersSkipped);
    metrics = Map.copyOf(metrics);
  }
}
