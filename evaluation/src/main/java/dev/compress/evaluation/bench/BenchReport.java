package dev.compress.evaluation.bench;

import dev.compress.evaluation.latency.LatencyStats;
import dev.compress.evaluation.layers.LayerErrors;
import dev.compress.evaluation.layers.LayerErrors.LayerError;
import dev.compress.evaluation.memory.MemoryProbe;
import dev.compress.evaluation.task.TaskOutcome;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a {@link Bench} run measured. {@code report.JsonReport} writes it as JSON, {@code
 * report.HtmlReport} as a self-contained page, {@link BenchTable} as a text table.
 *
 * @param environment machine and settings, name to value (Java, OS, CPU count, engine, threads,
 *     latency plan, start time)
 * @param variants one per model, baseline first
 * @param latency one point per (batch size, sequence length) of the sweep
 * @param task what the accuracy/fidelity task measured, if one ran
 * @param layerErrors per variant name (not the baseline), the per-layer errors against the baseline
 * @param notes how the numbers were made, one line each
 * @param layerErrorModes the per-layer error modes measured, in order ({@code accumulated}, {@code
 *     isolated}); empty when none was
 * @param layerErrorInputs what the per-layer errors were measured on, one line (empty when none
 *     was)
 */
public record BenchReport(
    Map<String, String> environment,
    List<VariantResult> variants,
    List<LatencyPoint> latency,
    Optional<TaskOutcome> task,
    Map<String, List<LayerError>> layerErrors,
    List<String> notes,
    List<LayerErrors.Mode> layerErrorModes,
    String layerErrorInputs) {

  /** A report whose per-layer errors (if any) are all accumulated ones of unstated inputs. */
  public BenchReport(
      Map<String, String> environment,
      List<VariantResult> variants,
      List<LatencyPoint> latency,
      Optional<TaskOutcome> task,
      Map<String, List<LayerError>> layerErrors,
      List<String> notes) {
    this(
        environment,
        variants,
        latency,
        task,
        layerErrors,
        notes,
        layerErrors.isEmpty() ? List.of() : List.of(LayerErrors.Mode.ACCUMULATED),
        "");
  }

  /** Copies the collections. */
  public BenchReport {
    layerErrorModes = List.copyOf(layerErrorModes);
    layerErrorInputs = layerErrorInputs == null ? "" : layerErrorInputs;
    environment = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(environment));
    variants = List.copyOf(variants);
    latency = List.copyOf(latency);
    layerErrors = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(layerErrors));
    notes = List.copyOf(notes);
  }

  /**
   * One model.
   *
   * @param name its label
   * @param path its file, as given
   * @param bytes bytes on disk (the ONNX file and its external data)
   * @param memory heap and resident memory of loading and running it alone, if measured
   */
  public record VariantResult(
      String name, String path, long bytes, Optional<MemoryProbe.Usage> memory) {}

  /**
   * The latency of every variant at one point of the sweep, measured interleaved.
   *
   * @param batch batch size
   * @param sequenceLength tokens per sample, or 0 for fixed-shape inputs
   * @param stats one per variant, in variant order
   */
  public record LatencyPoint(int batch, int sequenceLength, List<LatencyStats> stats) {
    /** Copies the list. */
    public LatencyPoint {
      stats = List.copyOf(stats);
    }

    /** {@code variant p50 / baseline p50}: below 1 is faster. */
    public double p50Ratio(int variant) {
      return stats.get(variant).p50Ms() / stats.get(0).p50Ms();
    }
  }

  /** The task metrics of variant {@code i}, empty without a task. */
  public Map<String, Double> taskMetrics(int i) {
    return task.map(t -> t.perVariant().get(i)).orElse(Map.of());
  }
}
