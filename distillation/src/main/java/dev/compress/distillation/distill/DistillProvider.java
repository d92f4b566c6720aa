package dev.compress.distillation.distill;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import java.util.List;

/** Registers {@link DistillPass} as {@code distill}. */
public final class DistillProvider implements PassProvider<DistillConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "distill";

  /** Used by {@link java.util.ServiceLoader}. */
  public DistillProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Teacher-student distillation: train the current model (after layer-drop, pruning,"
        + " low-rank or quantization) to match the original on the calibration samples";
  }

  @Override
  public Class<DistillConfig> configType() {
    return DistillConfig.class;
  }

  @Override
  public DistillConfig defaults() {
    return DistillConfig.defaults();
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc("teacher", "an ONNX file to learn from (unset: the pipeline's input model)"),
        new ParamDoc(
            "losses",
            "weighted terms, summed: {kind: soft-targets|hidden-mse|hidden-cosine|embedding-mse|"
                + "embedding-cosine, weight, output, temperature, hardLabelWeight, layerMap}"),
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
  public Pass<DistillConfig> create(DistillConfig config) {
    return new DistillPass(config);
  }
}
