package dev.compress.lowrank.lora;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link LoraPass} as {@code lora}. */
public final class LoraProvider implements PassProvider<LoraConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "lora";

  /** Used by {@link java.util.ServiceLoader}. */
  public LoraProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "LoRA: low-rank adapters h = W0 x + (alpha/r) B A x on the selected layers, trained"
        + " against the original model (base frozen), then merged into the weights";
  }

  @Override
  public Class<LoraConfig> configType() {
    return LoraConfig.class;
  }

  @Override
  public LoraConfig defaults() {
    return LoraConfig.defaults();
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
  public Pass<LoraConfig> create(LoraConfig config) {
    return new LoraPass(config);
  }
}
