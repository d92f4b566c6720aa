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
 * Configuration of {@link DyLoraPass}, validated at construction: {@code lora}'s keys (the same
 * {@link TeacherStudent} run) and {@code keepRank}, the rank the written model keeps.
 *
 * @param selection the linear layers that get adapters (all: every float MatMul/Gemm)
 * @param teacher an ONNX file to learn from; empty: the pipeline's input model
 * @param losses the weighted loss terms, summed (empty: {@code embedding-mse})
 * @param rank the largest adapter rank r (>= 1, and at most min(in, out) of every selected layer);
 *     each update trains a rank drawn from 1..r
 * @param keepRank the rank written, in {@code [1, rank]}; empty: {@code rank}
 * @param alpha the LoRA alpha (> 0): the branch is scaled by {@code alpha / r}
 * @param merge fold the trained adapters into the base weights and remove them (a plain model);
 *     false keeps them as separate nodes
 * @param base the frozen base the adapters train over: {@code float} (the weights as they are) or
 *     {@code nf4} (QLoRA: each adapted weight replaced by its NF4 form, dequantized in the forward;
 *     the merge folds the adapters into the dequantized NF4 weights, a later quantization pass
 *     requantizes them)
 * @param lr the peak learning rate of AdamW (> 0)
 * @param batchSize examples per update (>= 1)
 * @param epochs passes over the training examples (>= 1), unless {@code steps} is given
 * @param steps the number of updates (>= 1); overrides {@code epochs}
 * @param warmup the warmup fraction, in {@code [0, 1)}; then cosine decay
 * @param weightDecay AdamW's decoupled weight decay (>= 0), on A and B
 * @param clipNorm the global gradient norm bound (> 0), or 0 for none
 * @param validationFraction calibration samples held out to pick the best adapters, in {@code [0,
 *     0.5]}; 0 keeps the last
 * @param validateEvery updates between validations (>= 1); empty: five per run
 */
public record DyLoraConfig(
    LayerSelection selection,
    @Param("an ONNX file to learn from (unset: the pipeline's input model)")
        Optional<String> teacher,
    @Param(
            "weighted terms, summed: {kind: soft-targets|hidden-mse|hidden-cosine|embedding-mse|"
                + "embedding-cosine, weight, output, temperature, hardLabelWeight, layerMap}")
        List<LossTerm> losses,
    @Param(
            "largest adapter rank r (>= 1, at most min(in, out) of each selected layer); each"
                + " update trains the first b ranks, b drawn from 1..r")
        int rank,
    @Param(
            "the rank written: the first keepRank rows/columns of the adapters, scaled alpha /"
                + " keepRank, in [1, rank] (unset: rank)")
        Optional<Integer> keepRank,
    @Param("LoRA alpha (> 0); a rank-b truncation is scaled by alpha / b") double alpha,
    @Param(
            "true: fold (alpha/r) B A into the base weights and write a plain model; false: keep"
                + " the adapters as separate nodes")
        boolean merge,
    @Param(
            "the frozen base while training: float, or nf4 (QLoRA: NF4 weights dequantized in the"
                + " forward; the merged weights are float, for a later quantization pass)")
        LoraConfig.Base base,
    @Param("AdamW's peak learning rate (> 0)") double lr,
    @Param("examples per update (>= 1)") int batchSize,
    @Param("passes over the training examples (>= 1), unless steps is given") int epochs,
    @Param("number of updates (>= 1); overrides epochs") Optional<Integer> steps,
    @Param("fraction of updates warming up linearly, in [0, 1); then cosine") double warmup,
    @Param("AdamW's decoupled weight decay on A and B (>= 0)") double weightDecay,
    @Param("clip the global gradient norm to this (> 0), or 0 for off") double clipNorm,
    @Param("calibration samples held out to pick the best adapters, in [0, 0.5]; 0: last ones")
        double validationFraction,
    @Param("updates between validations (>= 1; unset: five validations per run)")
        Optional<Integer> validateEvery)
    implements PassConfig, TrainingKeys {

  /** Validates every field and reports all problems at once. */
  public DyLoraConfig {
    base = base == null ? LoraConfig.Base.FLOAT : base;
    selection = selection == null ? LayerSelection.ALL : selection;
    teacher = teacher == null ? Optional.empty() : teacher;
    losses =
        losses == null || losses.isEmpty()
            ? List.of(LossTerm.of(LossTerm.Kind.EMBEDDING_MSE))
            : List.copyOf(losses);
    steps = steps == null ? Optional.empty() : steps;
    keepRank = keepRank == null ? Optional.empty() : keepRank;
    validateEvery = validateEvery == null ? Optional.empty() : validateEvery;
    List<String> p = new ArrayList<>();
    if (teacher.isPresent() && teacher.get().isBlank()) {
      p.add("teacher must name an ONNX file, found ''");
    }
    if (rank < 1) {
      p.add("rank must be >= 1, found " + rank);
    }
    if (keepRank.isPresent() && (keepRank.get() < 1 || keepRank.get() > Math.max(rank, 1))) {
      p.add("keepRank must be in [1, rank " + rank + "], found " + keepRank.get());
    }
    if (!(alpha > 0) || Double.isInfinite(alpha)) {
      p.add("alpha must be > 0, found " + alpha);
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
   * Every default: all layers, rank 8 kept whole, alpha 8 (the rank-1 truncation is scaled 8, the
   * full rank 1; alpha 2r over-scaled rank 1 on the tiny encoder), merged; embedding MSE, lr 1e-3,
   * batches of 32, one epoch, 10% warmup, no weight decay, clipping at 1, 10% held out.
   */
  public static DyLoraConfig defaults() {
    return new DyLoraConfig(
        LayerSelection.ALL,
        Optional.empty(),
        List.of(),
        8,
        Optional.empty(),
        8,
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

  /** Builds a {@link DyLoraConfig}: one setter per key, validated at {@link #build()}. */
  public static final class Builder extends TrainingBuilder<DyLoraConfig, Builder> {
    private Builder(DyLoraConfig start) {
      super(start);
    }

    /** Sets {@link DyLoraConfig#rank() rank}. */
    public Builder rank(int v) {
      return set("rank", v);
    }

    /** Sets {@link DyLoraConfig#keepRank() keepRank}. */
    public Builder keepRank(int v) {
      return set("keepRank", Optional.of(v));
    }

    /** Sets {@link DyLoraConfig#alpha() alpha}. */
    public Builder alpha(double v) {
      return set("alpha", v);
    }

    /** Sets {@link DyLoraConfig#merge() merge}. */
    public Builder merge(boolean v) {
      return set("merge", v);
    }

    /** Sets {@link DyLoraConfig#base() base}. */
    public Builder base(LoraConfig.Base v) {
      return set("base", v);
    }
  }
}
