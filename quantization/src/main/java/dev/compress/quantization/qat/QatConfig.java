package dev.compress.quantization.qat;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.observer.ActivationGranularity;
import dev.compress.quantization.observer.Observers;
import dev.compress.quantization.rtn.ClipMethod;
import dev.compress.quantization.rtn.RtnConfig;
import dev.compress.training.distill.LossTerm;
import dev.compress.training.distill.TeacherStudent;
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
    int bits,
    Granularity granularity,
    int groupSize,
    boolean symmetric,
    ClipMethod clip,
    boolean activations,
    boolean activationSymmetric,
    String observer,
    StepSize stepSize,
    ScaleInit scaleInit,
    Optional<String> teacher,
    List<LossTerm> losses,
    double lr,
    int batchSize,
    int epochs,
    Optional<Integer> steps,
    double warmup,
    double weightDecay,
    double clipNorm,
    double validationFraction,
    Optional<Integer> validateEvery)
    implements PassConfig {

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
    if (!(lr > 0) || Double.isInfinite(lr)) {
      p.add("lr must be > 0, found " + lr);
    }
    if (batchSize < 1) {
      p.add("batchSize must be >= 1, found " + batchSize);
    }
    if (epochs < 1) {
      p.add("epochs must be >= 1, found " + epochs);
    }
    if (steps.isPresent() && steps.get() < 1) {
      p.add("steps must be >= 1, found " + steps.get());
    }
    if (!(warmup >= 0 && warmup < 1)) {
      p.add("warmup must be in [0, 1), found " + warmup);
    }
    if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
      p.add("weightDecay must be >= 0, found " + weightDecay);
    }
    if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
      p.add("clipNorm must be > 0, or 0 for no clipping, found " + clipNorm);
    }
    if (!(validationFraction >= 0 && validationFraction <= 0.5)) {
      p.add("validationFraction must be in [0, 0.5], found " + validationFraction);
    }
    if (validateEvery.isPresent() && validateEvery.get() < 1) {
      p.add("validateEvery must be >= 1, found " + validateEvery.get());
    }
    InvalidConfigException.throwIfAny(p);
  }

  /**
   * Every default: W4 asymmetric in groups of 128 from the RTN grid, LSQ step sizes, embedding MSE
   * against the pipeline's input model, lr 1e-5, batches of 16, one epoch, 10% warmup, 10% held
   * out.
   */
  public static QatConfig defaults() {
    return builder().build();
  }

  /** A builder at {@link #defaults()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Input features per scale for a layer with {@code inFeatures} of them. */
  public int effectiveGroupSize(int inFeatures) {
    return granularity == Granularity.PER_CHANNEL ? inFeatures : groupSize;
  }

  /** The training settings of the run. */
  public TeacherStudent.Settings settings() {
    return new TeacherStudent.Settings(
        lr,
        batchSize,
        epochs,
        steps,
        warmup,
        weightDecay,
        clipNorm,
        validationFraction,
        validateEvery);
  }

  /** A builder of {@link QatConfig}: {@code optX} for each key, validated by {@link #build()}. */
  public static final class Builder {
    private LayerSelection selection = LayerSelection.ALL;
    private int bits = 4;
    private Granularity granularity = Granularity.PER_GROUP;
    private int groupSize = 128;
    private boolean symmetric = false;
    private ClipMethod clip = ClipMethod.NONE;
    private boolean activations = false;
    private boolean activationSymmetric = false;
    private String observer = Observers.MSE;
    private StepSize stepSize = StepSize.LSQ;
    private ScaleInit scaleInit = ScaleInit.RTN;
    private Optional<String> teacher = Optional.empty();
    private List<LossTerm> losses = List.of();
    private double lr = 1e-5;
    private int batchSize = 16;
    private int epochs = 1;
    private Optional<Integer> steps = Optional.empty();
    private double warmup = 0.1;
    private double weightDecay = 0;
    private double clipNorm = 1;
    private double validationFraction = 0.1;
    private Optional<Integer> validateEvery = Optional.empty();

    private Builder() {}

    public Builder optSelection(LayerSelection v) {
      selection = v;
      return this;
    }

    /** Weight bits, per channel or in groups of {@code group} (0: per channel). */
    public Builder optWeights(int b, int group, boolean sym) {
      bits = b;
      granularity = group == 0 ? Granularity.PER_CHANNEL : Granularity.PER_GROUP;
      groupSize = group;
      symmetric = sym;
      return this;
    }

    public Builder optClip(ClipMethod v) {
      clip = v;
      return this;
    }

    /** int8 per-tensor activations (W8A8). */
    public Builder optActivations(boolean on, boolean sym, String obs) {
      activations = on;
      activationSymmetric = sym;
      observer = obs;
      return this;
    }

    public Builder optStepSize(StepSize v) {
      stepSize = v;
      return this;
    }

    public Builder optScaleInit(ScaleInit v) {
      scaleInit = v;
      return this;
    }

    public Builder optTeacher(String file) {
      teacher = Optional.ofNullable(file);
      return this;
    }

    public Builder optLosses(List<LossTerm> v) {
      losses = v;
      return this;
    }

    /** Learning rate and number of updates. */
    public Builder optSchedule(double rate, int updates) {
      lr = rate;
      steps = Optional.of(updates);
      return this;
    }

    public Builder optLr(double v) {
      lr = v;
      return this;
    }

    public Builder optBatchSize(int v) {
      batchSize = v;
      return this;
    }

    public Builder optEpochs(int v) {
      epochs = v;
      return this;
    }

    public Builder optWarmup(double v) {
      warmup = v;
      return this;
    }

    public Builder optWeightDecay(double v) {
      weightDecay = v;
      return this;
    }

    public Builder optClipNorm(double v) {
      clipNorm = v;
      return this;
    }

    /** Held-out fraction and updates between validations. */
    public Builder optValidation(double fraction, Integer every) {
      validationFraction = fraction;
      validateEvery = Optional.ofNullable(every);
      return this;
    }

    /**
     * The config.
     *
     * @throws InvalidConfigException listing every problem
     */
    public QatConfig build() {
      return new QatConfig(
          selection,
          bits,
          granularity,
          groupSize,
          symmetric,
          clip,
          activations,
          activationSymmetric,
          observer,
          stepSize,
          scaleInit,
          teacher,
          losses,
          lr,
          batchSize,
          epochs,
          steps,
          warmup,
          weightDecay,
          clipNorm,
          validationFraction,
          validateEvery);
    }
  }
}
