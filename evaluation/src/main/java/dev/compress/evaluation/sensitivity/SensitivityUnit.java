package dev.compress.evaluation.sensitivity;

import java.util.List;

/**
 * What one probe compresses at a time: one linear layer, or the linear layers of one transformer
 * block.
 *
 * @param name the layer name, or {@code block N}
 * @param layers the linear layers of the unit, in graph order (the probe's {@code targets})
 * @param parameters weight elements of those layers (the plan weighs units by it)
 */
public record SensitivityUnit(String name, List<String> layers, long parameters) {
  /** Copies the list. */
  public SensitivityUnit {
    layers = List.copyOf(layers);
  }
}
