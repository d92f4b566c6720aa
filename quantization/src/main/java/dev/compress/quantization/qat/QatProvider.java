package dev.compress.quantization.qat;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import java.util.List;

/** Registers {@link QatPass} as {@code qat}. */
public final class QatProvider implements PassProvider<QatConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "qat";

  /** Used by {@link java.util.ServiceLoader}. */
  public QatProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Quantization-aware training: fake-quantized weights (and int8 activations) trained"
        + " against the float model with the straight-through estimator and LSQ step sizes, then"
        + " stored as MatMulNBits, DequantizeLinear or QDQ";
  }

  @Override
  public Class<QatConfig> configType() {
    return QatConfig.class;
  }

  @Override
  public QatConfig defaults() {
    return QatConfig.defaults();
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc("bits", "weight bits: 4 (MatMulNBits) or 8 (DequantizeLinear per channel)"),
        new ParamDoc(
            "granularity",
            "per_channel: one scale per output channel; per_group: per groupSize input features"
                + " (bits=4 only)"),
        new ParamDoc("groupSize", "input features per group for per_group: 32, 64 or 128"),
        new ParamDoc(
            "symmetric",
            "true: symmetric grid, no stored zero point; false: a zero point per group"),
        new ParamDoc(
            "clip", "the initial RTN grid: none (full min-max range) or mse (searched range)"),
        new ParamDoc(
            "activations",
            "also fake-quantize each layer input to int8 per tensor (W8A8, written as QDQ);"
                + " needs bits=8 per_channel"),
        new ParamDoc(
            "activationSymmetric", "int8 activations with zero point 0 (false: uint8 with one)"),
        new ParamDoc(
            "observer", "initial activation ranges: minmax, moving-average, percentile, mse or kl"),
        new ParamDoc(
            "stepSize",
            "lsq: scales are trained (LSQ gradient scale 1/sqrt(N Q_P)); fixed: the initial grid"
                + " stays, weights train through the straight-through estimator"),
        new ParamDoc(
            "scaleInit",
            "rtn: the round-to-nearest grid; lsq: 2 mean|w| / sqrt(Q_P) (symmetric grids)"),
        new ParamDoc("teacher", "an ONNX file to learn from (unset: the pipeline's input model)"),
        new ParamDoc(
            "losses",
            "weighted terms, summed, as distill: {kind: soft-targets|hidden-mse|hidden-cosine|"
                + "embedding-mse|embedding-cosine, weight, output, temperature, hardLabelWeight,"
                + " layerMap}"),
        new ParamDoc("lr", "AdamW's peak learning rate (> 0)"),
        new ParamDoc("batchSize", "examples per update (>= 1)"),
        new ParamDoc("epochs", "passes over the training examples (>= 1), unless steps is given"),
        new ParamDoc("steps", "number of updates (>= 1); overrides epochs"),
        new ParamDoc("warmup", "fraction of updates warming up linearly, in [0, 1); then cosine"),
        new ParamDoc("weightDecay", "AdamW's decoupled weight decay on matrices (>= 0)"),
        new ParamDoc("clipNorm", "clip the global gradient norm to this (> 0), or 0 for off"),
        new ParamDoc(
            "validationFraction",
            "calibration samples held out to pick the best weights, in [0, 0.5]; 0: last weights"),
        new ParamDoc(
            "validateEvery",
            "updates between validations (>= 1; unset: five validations per run)"));
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public boolean needsTeacher() {
    return true;
  }

  @Override
  public Pass<QatConfig> create(QatConfig config) {
    return new QatPass(config);
  }
}
