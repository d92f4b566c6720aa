package dev.compress.evaluation.task;

import java.util.List;
import java.util.Map;

/**
 * What a task measured on every variant.
 *
 * @param kind the task
 * @param perVariant for each variant (baseline first), metric name to value; comparisons against
 *     the baseline (cosine, KL, agreement) are of that variant against variant 0
 * @param data the data each metric used, by role (e.g. {@code heldout}, {@code lexicon})
 * @param notes how the numbers were made, one line each
 * @param settings what the task was run with, name to value, in order (e.g. {@code pooling});
 *     written into the reports
 */
public record TaskOutcome(
    TaskKind kind,
    List<Map<String, Double>> perVariant,
    Map<String, DataIdentity> data,
    List<String> notes,
    Map<String, String> settings) {
  /** An outcome without settings. */
  public TaskOutcome(
      TaskKind kind,
      List<Map<String, Double>> perVariant,
      Map<String, DataIdentity> data,
      List<String> notes) {
    this(kind, perVariant, data, notes, Map.of());
  }

  /** Copies the collections, keeping the metrics' order. */
  public TaskOutcome {
    settings =
        java.util.Collections.unmodifiableMap(
            new java.util.LinkedHashMap<>(settings == null ? Map.of() : settings));
    perVariant =
        perVariant.stream()
            .map(m -> java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(m)))
            .toList();
    data = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(data));
    notes = List.copyOf(notes);
  }
}
