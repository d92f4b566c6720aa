package dev.compress.distillation.distill;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.training.distill.LossTerm;
import dev.compress.training.distill.TeacherStudent;
import dev.compress.training.distill.TrainingBuilder;
import dev.compress.training.distill.TrainingKeys;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Configuration of {@link DistillPass}, validated at construction. The defaults ({@link
 * #defaults()}) follow sentence-transformers' layer-reduction recipe (MSE on the teacher's sentence
 * embeddings, warmup, one epoch). The training examples are the calibration samples, re-batched.
 *
 * @param selection the linear layers whose weights and biases are trained; all layers trains every
 *     float initializer with more than one element (embeddings and norms too)
 * @param teacher an ONNX file to learn from; empty: the pipeline's input model
 * @param losses the weighted loss terms, summed (empty: {@code embedding-mse})
 * @param lr the peak learning rate of AdamW (> 0)
 * @param batchSize examples per update (>= 1)
 * @param epochs passes over the training batches (>= 1), unless {@code steps} is given
 * @param steps the number of updates (>= 1), cycling the batches; overrides {@code epochs}
 * @param warmup the fraction of updates with a linearly rising rate, in {@code [0, 1)}; then cosine
 *     decay to 0
 * @param weightDecay AdamW's decoupled weight decay, on matrices only (>= 0)
 * @param clipNorm the global gradient norm is clipped to this (> 0), or 0 for no clipping
 * @param validationFraction the fraction of calibration batches held out for validation, in {@code
 *     [0, 0.5]}; 0 keeps the last weights, else the weights of the best validation loss are written
 * @param validateEvery updates between validations (>= 1); empty: five times per run
 */
public record DistillConfig(
    LayerSelection selection,
    @Param("an ONNX file to learn from (unset: the pipeline's input model)")
        Optional<String> teacher,
    @Param(
            "weighted terms, summed: {kind: soft-targets|hidden-mse|hidden-cosine|embedding-mse|"
                + "embedding-cosine, weight, output, temperature, hardLabelWeight, layerMap}")
        List<LossTerm> losses,
    @Param("AdamW's peak learning rate (> 0)") double lr,
    @Param("examples per update (>= 1)") int batchSize,
    @Param("passes over the training examples (>= 1), unless steps is given") int epochs,
    @Param("number of updates (>= 1); overrides epochs") Optional<Integer> steps,
    @Param("fraction of updates warming up linearly, in [0, 1); then cosine") double warmup,
    @Param("AdamW's decoupled weight decay on matrices (>= 0)") double weightDecay,
    @Param("clip the global gradient norm to this (> 0), or 0 for off") double clipNorm,
    @Param("calibration samples held out to pick the best weights, in [0, 0.5]; 0: last weights")
        double validationFraction,
    @Param("updates between validations (>= 1; unset: five validations per run)")
        Optional<Integer> validateEvery)
    implements PassConfig, TrainingKeys {

  /** Validates every field and reports all problems at once. */
  public DistillConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    teacher = teacher == null ? Optional.empty() : teacher;
    losses =
        losses == null || losses.isEmpty()
            ? List.of(LossTerm.of(LossTerm.Kind.EMBEDDING_MSE))
            : List.copyOf(losses);
    steps = steps == null ? Optional.empty() : steps;
    validateEvery = validateEvery == null ? Optional.empty() : validateEvery;
    List<String> p = new ArrayList<>();
    if (teacher.isPresent() && teacher.get().isBlank()) {
      p.add("teacher must name an ONNX file, found ''");
    }
    p.addAll(
        new TeacherStudent.Settings(
                lr,
                batchSize,
                epochs,
                steps,
                warmup,
                weightDecay,
                clipNorm,
                validationFraction,
                validateEvery)
            .problems());
    InvalidConfigException.throwIfAny(p);
  }

  /** Every default: the values a pipeline gets for the keys it leaves out. */
  public static DistillConfig defaults() {
    return new DistillConfig(
        LayerSelection.ALL,
        Optional.empty(),
        List.of(),
        1e-4,
        32,
        1,
        Optional.empty(),
        0.1,
        0.01,
        1.0,
        0.1,
        Optional.empty());
  }

  /** This config with {@code losses}. */
  public DistillConfig withLosses(List<LossTerm> terms) {
    return toBuilder().losses(terms.toArray(LossTerm[]::new)).build();
  }

  /** This config with a learning rate and a number of updates. */
  public DistillConfig withSchedule(double rate, int updates) {
    return toBuilder().lr(rate).steps(updates).build();
  }

  /** This config with a teacher file. */
  public DistillConfig withTeacher(String file) {
    return toBuilder().teacher(file).build();
  }

  /** This config with a validation fraction. */
  public DistillConfig withValidation(double fraction, int every) {
    return toBuilder().validationFraction(fraction).validateEvery(every).build();
  }

  /** A builder starting from {@link #defaults()}, validated at {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * Builds a {@link DistillConfig}: one setter per key, every value checked at {@link #build()}.
   */
  public static final class Builder extends TrainingBuilder<DistillConfig, Builder> {
    private Builder(DistillConfig start) {
      super(start);
    }
  }
}
