package dev.compress.evaluation.bench;

import dev.compress.evaluation.engine.EngineSpec;
import dev.compress.evaluation.latency.LatencyPlan;
import dev.compress.evaluation.layers.LayerErrors.Mode;
import dev.compress.evaluation.task.TaskSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A side-by-side measurement of model variants: the first is the baseline every ratio and fidelity
 * metric refers to.
 *
 * @param variants the models, baseline first (at least one)
 * @param modelSpec how the baseline was named ({@code builtin:NAME} or a path), to find its
 *     tokenizer; the variants share it
 * @param task the accuracy/fidelity task, if any
 * @param engine where the models run
 * @param plan warm-up, iterations and time budget of each latency measurement
 * @param batchSizes batch sizes of the latency sweep (empty: no latency)
 * @param sequenceLengths sequence lengths of the sweep, for models with token inputs (ignored for
 *     models with fixed-shape float inputs)
 * @param memory whether to measure heap and resident memory of each variant on its own
 * @param layerErrorModes which per-layer errors of each variant against the baseline to measure
 *     ({@link Mode#ACCUMULATED}, {@link Mode#ISOLATED}, or both; empty for none), on samples of the
 *     task's data (generated inputs without a task)
 * @param seed seed of generated inputs and of the bootstrap
 * @param tokenizer the baseline's tokenizer.json; empty to use a built-in model's own or find one
 *     beside the baseline ({@link dev.compress.runtime.calibration.TokenizerLocator})
 */
public record BenchSpec(
    List<Variant> variants,
    String modelSpec,
    Optional<TaskSpec> task,
    EngineSpec engine,
    LatencyPlan plan,
    List<Integer> batchSizes,
    List<Integer> sequenceLengths,
    boolean memory,
    List<Mode> layerErrorModes,
    long seed,
    String tokenizer) {

  /**
   * A measurement with both per-layer error modes (or none) and the tokenizer found beside the
   * baseline.
   */
  public BenchSpec(
      List<Variant> variants,
      String modelSpec,
      Optional<TaskSpec> task,
      EngineSpec engine,
      LatencyPlan plan,
      List<Integer> batchSizes,
      List<Integer> sequenceLengths,
      boolean memory,
      boolean layerErrors,
      long seed) {
    this(
        variants,
        modelSpec,
        task,
        engine,
        plan,
        batchSizes,
        sequenceLengths,
        memory,
        layerErrors ? List.of(Mode.ACCUMULATED, Mode.ISOLATED) : List.of(),
        seed,
        "");
  }

  /** Whether any per-layer error is measured. */
  public boolean layerErrors() {
    return !layerErrorModes.isEmpty();
  }

  /**
   * One model.
   *
   * @param name a short label for tables and charts
   * @param path the ONNX file
   */
  public record Variant(String name, Path path) {
    /** Validates the arguments. */
    public Variant {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(path, "path");
    }
  }

  /** Validates and copies. */
  public BenchSpec {
    variants = List.copyOf(variants);
    batchSizes = List.copyOf(batchSizes);
    sequenceLengths = List.copyOf(sequenceLengths);
    layerErrorModes = List.copyOf(new java.util.LinkedHashSet<>(layerErrorModes));
    tokenizer = tokenizer == null ? "" : tokenizer;
    task = task == null ? Optional.empty() : task;
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(plan, "plan");
    if (variants.isEmpty()) {
      throw new IllegalArgumentException("at least one variant is required");
    }
    for (int b : batchSizes) {
      if (b <= 0) {
        throw new IllegalArgumentException("batch sizes must be > 0, found " + b);
      }
    }
    for (int s : sequenceLengths) {
      if (s < 2) {
        throw new IllegalArgumentException("sequence lengths must be >= 2, found " + s);
      }
    }
    if (!batchSizes.isEmpty() && sequenceLengths.isEmpty()) {
      throw new IllegalArgumentException("a latency sweep needs at least one sequence length");
    }
  }
}
