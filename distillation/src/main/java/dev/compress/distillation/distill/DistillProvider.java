package dev.compress.distillation.distill;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

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
