package dev.compress.quantization.qat;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.observer.ActivationGranularity;
import dev.compress.quantization.observer.Observers;
import dev.compress.quantization.rtn.ClipMethod;
import dev.compress.quantization.rtn.RtnConfig;
import dev.compress.training.distill.LossTerm;
import dev.compress.training.distill.TeacherStudent;
import dev.compress.training.distill.TrainingBuilder;
import dev.compress.training.distill.TrainingKeys;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Configuration of {@link QatPass}, validated at construction. The grid keys are those of {@code
 * rtn-quantization}, the training keys those of {@code distill}.
 *
 * @param selection the linear layers to quantize (null means all)
 * @param bits 4 or 8
 * @param granularity one scale per output channel, or per group of input features (4 bits only)
 * @param groupSize input features per group (32, 64 or 128) for {@link Granularity#PER_GROUP}
 * @param symmetric symmetric grid (no stored zero point) or a zero point per group
 * @param clip the initial RTN grid: full min-max range, or the MSE-shrunk one
 * @param activations also fake-quantize each selected layer's input to int8 per tensor (W8A8,
 *     written as QDQ); needs {@code bits: 8} per channel
 * @param activationSymmetric int8 activations with zero point 0 (else uint8 with a zero point)
 * @param observer how the initial activation ranges are calibrated (as {@code ptq-static})
 * @param stepSize {@link StepSize#FIXED} or {@link StepSize#LSQ} (learned scales)
 * @param scaleInit where the weight grid starts
 * @param teacher an ONNX file to learn from; default: the pipeline's input model
 * @param losses the weighted loss terms (default {@code embedding-mse}), as {@code distill}
 * @param lr AdamW's peak learning rate (> 0)
 * @param batchSize examples per update (>= 1)
 * @param epochs passes over the training examples (>= 1), unless {@code steps} is given
 * @param steps the number of updates (>= 1); overrides {@code epochs}
 * @param warmup the warmup fraction, in {@code [0, 1)}
 * @param weightDecay AdamW's decoupled weight decay (>= 0; it also pulls learned scales down)
 * @param clipNorm the global gradient norm bound (> 0), or 0 for none
 * @param validationFraction calibration samples held out to pick the best weights, in [0, 0.5]
 * @param validateEvery updates between validations (>= 1); default five per run
 */
public record QatConfig(
    LayerSelection selection,
    @Param("weight bits: 4 (MatMulNBits) or 8 (DequantizeLinear per channel)") int bits,
    @Param(
            "per_channel: one scale per output channel; per_group: per groupSize input features"
                + " (bits=4 only)")
        Granularity granularity,
    @Param("input features per group for per_group: 32, 64 or 128") int groupSize,
    @Param("true: symmetric grid, no stored zero point; false: a zero point per group")
        boolean symmetric,
    @Param("the initial RTN grid: none (full min-max range) or mse (searched range)")
        ClipMethod clip,
    @Param(
            "also fake-quantize each layer input to int8 per tensor (W8A8, written as QDQ);"
                + " needs bits=8 per_channel")
        boolean activations,
    @Param("int8 activations with zero point 0 (false: uint8 with one)")
        boolean activationSymmetric,
    @Param("initial activation ranges: minmax, moving-average, percentile, mse or kl")
        String observer,
    @Param(
            "lsq: scales are trained (LSQ gradient scale 1/sqrt(N Q_P)); fixed: the initial grid"
                + " stays, weights train through the straight-through estimator")
        StepSize stepSize,
    @Param("rtn: the round-to-nearest grid; lsq: 2 mean|w| / sqrt(Q_P) (symmetric grids)")
        ScaleInit scaleInit,
    @Param("an ONNX file to learn from (unset: the pipeline's input model)")
        Optional<String> teacher,
    @Param(
            "weighted terms, summed, as distill: {kind: soft-targets|hidden-mse|hidden-cosine|"
                + "embedding-mse|embedding-cosine, weight, output, temperature, hardLabelWeight,"
                + " layerMap}")
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

  /** The percentile of the {@code percentile} observer (ptq-static's default). */
  static final double PERCENTILE = 99.999;

  /** The constant of the {@code moving-average} observer (ptq-static's default). */
  static final double AVERAGING = 0.01;

  /** Validates every field and reports all problems at once. */
  public QatConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    granularity = granularity == null ? Granularity.PER_GROUP : granularity;
    clip = clip == null ? ClipMethod.NONE : clip;
    observer = observer == null ? Observers.MSE : observer;
    stepSize = stepSize == null ? StepSize.LSQ : stepSize;
    scaleInit = scaleInit == null ? ScaleInit.RTN : scaleInit;
    teacher = teacher == null ? Optional.empty() : teacher;
    losses =
        losses == null || losses.isEmpty()
            ? List.of(LossTerm.of(LossTerm.Kind.EMBEDDING_MSE))
            : List.copyOf(losses);
    steps = steps == null ? Optional.empty() : steps;
    validateEvery = validateEvery == null ? Optional.empty() : validateEvery;
    List<String> p = new ArrayList<>();
    if (bits != 4 && bits != 8) {
      p.add("bits must be 4 or 8, found " + bits);
    }
    if (granularity == Granularity.PER_GROUP && !RtnConfig.GROUP_SIZES.contains(groupSize)) {
      p.add("groupSize must be 32, 64 or 128 for per_group, found " + groupSize);
    }
    if (bits == 8 && granularity == Granularity.PER_GROUP) {
      p.add(
          "granularity per_group needs bits=4 (8-bit weights are written per channel behind"
              + " DequantizeLinear), found bits=8. HINT: granularity: per_channel");
    }
    if (activations && !(bits == 8 && granularity == Granularity.PER_CHANNEL)) {
      p.add(
          "activations: true (W8A8, written as QDQ) needs bits=8 and granularity per_channel,"
              + " found bits="
              + bits
              + " "
              + granularity.name().toLowerCase(java.util.Locale.ROOT));
    }
    if (scaleInit == ScaleInit.LSQ && !symmetric) {
      p.add(
          "scaleInit lsq (2 mean|w| / sqrt(Q_P)) is defined for symmetric grids; found symmetric:"
              + " false. HINT: scaleInit: rtn, or symmetric: true");
    }
    Observers.validate(observer, ActivationGranularity.PER_TENSOR, PERCENTILE, AVERAGING, p);
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

  /**
   * Every default: W4 asymmetric in groups of 128 from the RTN grid, LSQ step sizes, embedding MSE
   * against the pipeline's input model, lr 1e-5, batches of 16, one epoch, 10% warmup, 10% held
   * out.
   */
  public static QatConfig defaults() {
    return new QatConfig(
        LayerSelection.ALL,
        4,
        Granularity.PER_GROUP,
        128,
        false,
        ClipMethod.NONE,
        false,
        false,
        Observers.MSE,
        StepSize.LSQ,
        ScaleInit.RTN,
        Optional.empty(),
        List.of(),
        1e-5,
        16,
        1,
        Optional.empty(),
        0.1,
        0,
        1,
        0.1,
        Optional.empty());
  }

  /** Input features per scale for a layer with {@code inFeatures} of them. */
  public int effectiveGroupSize(int inFeatures) {
    return granularity == Granularity.PER_CHANNEL ? inFeatures : groupSize;
  }

  /** A builder starting from {@link #defaults()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds a {@link QatConfig}: one setter per key, validated at {@link #build()}. */
  public static final class Builder extends TrainingBuilder<QatConfig, Builder> {
    private Builder(QatConfig start) {
      super(start);
    }

    /** Sets {@link QatConfig#bits() bits}. */
    public Builder bits(int v) {
      return set("bits", v);
    }

    /** Sets {@link QatConfig#granularity() granularity}. */
    public Builder granularity(Granularity v) {
      return set("granularity", v);
    }

    /** Sets {@link QatConfig#groupSize() groupSize}. */
    public Builder groupSize(int v) {
      return set("groupSize", v);
    }

    /** Sets {@link QatConfig#symmetric() symmetric}. */
    public Builder symmetric(boolean v) {
      return set("symmetric", v);
    }

    /** Sets {@link QatConfig#clip() clip}. */
    public Builder clip(ClipMethod v) {
      return set("clip", v);
    }

    /** Sets {@link QatConfig#activations() activations}. */
    public Builder activations(boolean v) {
      return set("activations", v);
    }

    /** Sets {@link QatConfig#activationSymmetric() activationSymmetric}. */
    public Builder activationSymmetric(boolean v) {
      return set("activationSymmetric", v);
    }

    /** Sets {@link QatConfig#observer() observer}. */
    public Builder observer(String v) {
      return set("observer", v);
    }

    /** Sets {@link QatConfig#stepSize() stepSize}. */
    public Builder stepSize(StepSize v) {
      return set("stepSize", v);
    }

    /** Sets {@link QatConfig#scaleInit() scaleInit}. */
    public Builder scaleInit(ScaleInit v) {
      return set("scaleInit", v);
    }

    /** Weight bits, per channel or in groups of {@code group} (0: per channel), and the grid. */
    public Builder weights(int b, int group, boolean sym) {
      return bits(b)
          .granularity(group == 0 ? Granularity.PER_CHANNEL : Granularity.PER_GROUP)
          .groupSize(group)
          .symmetric(sym);
    }

    /** int8 per-tensor activations (W8A8) on or off, their grid and observer. */
    public Builder activations(boolean on, boolean sym, String obs) {
      return activations(on).activationSymmetric(sym).observer(obs);
    }

    /** Learning rate and number of updates. */
    public Builder schedule(double rate, int updates) {
      return lr(rate).steps(updates);
    }

    /** Held-out fraction and updates between validations (null: five per run). */
    public Builder validation(double fraction, Integer every) {
      set("validationFraction", fraction);
      return set("validateEvery", java.util.Optional.ofNullable(every));
    }
  }
}
