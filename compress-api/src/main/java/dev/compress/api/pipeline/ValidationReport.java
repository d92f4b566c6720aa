package dev.compress.api.pipeline;

import dev.compress.api.exec.Device;
import java.nio.file.Path;
import java.util.List;

/**
 * The outcome of {@link PipelineRunner#validate}: the spec and model fit together.
 *
 * @param modelFile the resolved model file
 * @param linearLayers how many linear layers the model has
 * @param passes for each pass, the layers it would touch
 * @param device the device the passes would run on ({@link PipelineSpec#device()} as it resolves on
 *     this machine: {@code auto} is the GPU when the engine finds one, else the CPU)
 */
public record ValidationReport(
    Path modelFile, int linearLayers, List<PassPlan> passes, Device device) {
  /** Copies the list; a null device is the CPU. */
  public ValidationReport {
    passes = List.copyOf(passes);
    device = device == null ? Device.CPU : device;
  }

  /** A report for passes on the CPU. */
  public ValidationReport(Path modelFile, int linearLayers, List<PassPlan> passes) {
    this(modelFile, linearLayers, passes, Device.CPU);
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
