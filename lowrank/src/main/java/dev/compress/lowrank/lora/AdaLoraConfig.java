package dev.compress.lowrank.lora;

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
 * Configuration of {@link AdaLoraPass}, validated at construction. The training keys are those of
 * {@code lora} (and {@code distill}); the others are AdaLoRA's (Zhang et al. 2023).
 *
 * @param selection the linear layers that get adapters
 * @param teacher an ONNX file to learn from; empty: the pipeline's input model
 * @param losses the weighted loss terms, summed (empty: {@code embedding-mse})
 * @param rank the initial rank of every adapter (>= 1, at most min(in, out) of each layer)
 * @param targetRank the average rank the budget ends at, in {@code [1, rank]}: the final budget is
 *     {@code targetRank x layers} triplets, spread over the layers by importance
 * @param alpha the branch scale is {@code alpha / rank} (> 0)
 * @param tinit the fraction of the updates trained at the full budget before masking starts
 * @param tfinal the fraction of the updates trained at the target budget with the mask fixed
 * @param deltaT updates between reallocations while the budget falls (>= 1)
 * @param beta1 the EMA factor of the importance (in [0, 1))
 * @param beta2 the EMA factor of the importance's uncertainty (in [0, 1))
 * @param orthWeight the weight of the orthogonality regulariser (>= 0)
 * @param merge fold the adapters into the base weights (a plain model), or keep them as nodes
 * @param base the frozen base while training: float or nf4
 * @param lr AdamW's peak learning rate
 * @param batchSize examples per update
 * @param epochs passes over the training examples, unless {@code steps} is given
 * @param steps the number of updates; overrides {@code epochs}
 * @param warmup the lr warmup fraction, then cosine decay
 * @param weightDecay AdamW's decoupled weight decay
 * @param clipNorm the global gradient norm bound, or 0 for none
 * @param validationFraction calibration samples held out to pick the best adapters
 * @param validateEvery updates between validations (only at the target budget)
 */
public record AdaLoraConfig(
    LayerSelection selection,
    @Param("an ONNX file to learn from (unset: the pipeline's input model)")
        Optional<String> teacher,
    @Param(
            "weighted terms, summed: {kind: soft-targets|hidden-mse|hidden-cosine|embedding-mse|"
                + "embedding-cosine, weight, output, temperature, hardLabelWeight, layerMap}")
        List<LossTerm> losses,
    @Param("initial rank of every adapter (>= 1, at most min(in, out) of each selected layer)")
        int rank,
    @Param(
            "average rank at the end, in [1, rank]: the budget ends at targetRank x layers"
                + " triplets, allocated across layers by importance")
        int targetRank,
    @Param("AdaLoRA alpha (> 0); the adapter branch is scaled by alpha / rank") double alpha,
    @Param("fraction of the updates at the full budget before masking starts, in [0, 1)")
        double tinit,
    @Param(
            "fraction of the updates at the target budget with the mask fixed, in [0, 1);"
                + " tinit + tfinal < 1")
        double tfinal,
    @Param("updates between reallocations while the budget falls (>= 1)") int deltaT,
    @Param("EMA factor of the importance |theta * grad|, in [0, 1)") double beta1,
    @Param("EMA factor of the importance's uncertainty, in [0, 1)") double beta2,
    @Param("weight of the orthogonality regulariser |P^T P - I|^2 + |Q Q^T - I|^2 (>= 0)")
        double orthWeight,
    @Param(
            "true: fold the kept triplets into the base weights and write a plain model; false:"
                + " keep them as LoRA nodes of each layer's allocated rank")
        boolean merge,
    @Param("the frozen base while training: float, or nf4 (QLoRA's NF4 base)") LoraConfig.Base base,
    @Param("AdamW's peak learning rate (> 0)") double lr,
    @Param("examples per update (>= 1)") int batchSize,
    @Param("passes over the training examples (>= 1), unless steps is given") int epochs,
    @Param("number of updates (>= 1); overrides epochs") Optional<Integer> steps,
    @Param("fraction of updates warming up linearly, in [0, 1); then cosine") double warmup,
    @Param("AdamW's decoupled weight decay on P and Q (>= 0)") double weightDecay,
    @Param("clip the global gradient norm to this (> 0), or 0 for off") double clipNorm,
    @Param("calibration samples held out to pick the best adapters, in [0, 0.5]; 0: last ones")
        double validationFraction,
    @Param(
            "updates between validations (>= 1; unset: five validations per run); only states at"
                + " the target budget are validated")
        Optional<Integer> validateEvery)
    implements PassConfig, TrainingKeys {

  /** Validates every field and reports all problems at once. */
  public AdaLoraConfig {
    base = base == null ? LoraConfig.Base.FLOAT : base;
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
    if (rank < 1) {
      p.add("rank must be >= 1, found " + rank);
    }
    if (targetRank < 1 || (rank >= 1 && targetRank > rank)) {
      p.add("targetRank must be in [1, rank " + rank + "], found " + targetRank);
    }
    if (!(alpha > 0) || Double.isInfinite(alpha)) {
      p.add("alpha must be > 0, found " + alpha);
    }
    if (!(tinit >= 0 && tinit < 1)) {
      p.add("tinit must be in [0, 1), found " + tinit);
    }
    if (!(tfinal >= 0 && tfinal < 1)) {
      p.add("tfinal must be in [0, 1), found " + tfinal);
    } else if (tinit >= 0 && tinit < 1 && !(tinit + tfinal < 1)) {
      p.add(
          "tinit + tfinal must be < 1 (the budget needs updates to fall), found "
              + tinit
              + " + "
              + tfinal);
    }
    if (deltaT < 1) {
      p.add("deltaT must be >= 1, found " + deltaT);
    }
    if (!(beta1 >= 0 && beta1 < 1)) {
      p.add("beta1 must be in [0, 1), found " + beta1);
    }
    if (!(beta2 >= 0 && beta2 < 1)) {
      p.add("beta2 must be in [0, 1), found " + beta2);
    }
    if (!(orthWeight >= 0) || Double.isInfinite(orthWeight)) {
      p.add("orthWeight must be >= 0, found " + orthWeight);
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

  /**
   * Every default: all layers, rank 12 falling to an average of 8 (PEFT's init_r and target_r),
   * alpha 16, 10% of the updates at the full budget, the last 20% at the target, reallocation every
   * update, beta1 = beta2 = 0.85, orthogonality weight 0.5 (the paper's); merged, float base;
   * lora's training defaults.
   */
  public static AdaLoraConfig defaults() {
    return new AdaLoraConfig(
        LayerSelection.ALL,
        Optional.empty(),
        List.of(),
        12,
        8,
        16,
        0.1,
        0.2,
        1,
        0.85,
        0.85,
        0.5,
        true,
        LoraConfig.Base.FLOAT,
        1e-3,
        32,
        1,
        Optional.empty(),
        0.1,
        0.0,
        1.0,
        0.1,
        Optional.empty());
  }

  /** A builder starting from {@link #defaults()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds an {@link AdaLoraConfig}: one setter per key, validated at {@link #build()}. */
  public static final class Builder extends TrainingBuilder<AdaLoraConfig, Builder> {
    private Builder(AdaLoraConfig start) {
      super(start);
    }

    /** Sets {@link AdaLoraConfig#rank() rank}. */
    public Builder rank(int v) {
      return set("rank", v);
    }

    /** Sets {@link AdaLoraConfig#targetRank() targetRank}. */
    public Builder targetRank(int v) {
      return set("targetRank", v);
    }

    /** Sets {@link AdaLoraConfig#alpha() alpha}. */
    public Builder alpha(double v) {
      return set("alpha", v);
    }

    /** Sets {@link AdaLoraConfig#tinit() tinit}. */
    public Builder tinit(double v) {
      return set("tinit", v);
    }

    /** Sets {@link AdaLoraConfig#tfinal() tfinal}. */
    public Builder tfinal(double v) {
      return set("tfinal", v);
    }

    /** Sets {@link AdaLoraConfig#deltaT() deltaT}. */
    public Builder deltaT(int v) {
      return set("deltaT", v);
    }

    /** Sets {@link AdaLoraConfig#beta1() beta1}. */
    public Builder beta1(double v) {
      return set("beta1", v);
    }

    /** Sets {@link AdaLoraConfig#beta2() beta2}. */
    public Builder beta2(double v) {
      return set("beta2", v);
    }

    /** Sets {@link AdaLoraConfig#orthWeight() orthWeight}. */
    public Builder orthWeight(double v) {
      return set("orthWeight", v);
    }

    /** Sets {@link AdaLoraConfig#merge() merge}. */
    public Builder merge(boolean v) {
      return set("merge", v);
    }

    /** Sets {@link AdaLoraConfig#base() base}. */
    public Builder base(LoraConfig.Base v) {
      return set("base", v);
    }
  }
}
