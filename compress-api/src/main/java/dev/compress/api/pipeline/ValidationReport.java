package dev.compress.api.pipeline;

import java.nio.file.Path;
import java.util.List;

/**
 * The outcome of {@link PipelineRunner#validate}: the spec and model fit together.
 *
 * @param modelFile the resolved model file
 * @param linearLayers how many linear layers the model has
 * @param passes for each pass, the layers it would touch
 */
public record ValidationReport(Path modelFile, int linearLayers, List<PassPlan> passes) {
  /** Copies the list. */
  public ValidationReport {
    passes = List.copyOf(passes);
  }

  /**
   * The layers one pass selects.
   *
   * @param index the pass's position in {@code passes} (from 0)
   * @param type the pass type
   * @param needsCalibration whether the pass needs calibration data
   * @param layers the selected layer names, in graph order
   */
  public record PassPlan(int index, String type, boolean needsCalibration, List<String> layers) {
    /** Copies the list. */
    public PassPlan {
      layers = List.copyOf(layers);
    }
  }
}
