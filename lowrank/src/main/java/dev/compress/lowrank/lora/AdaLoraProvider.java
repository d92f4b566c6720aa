package dev.compress.lowrank.lora;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link AdaLoraPass} as {@code adalora}. */
public final class AdaLoraProvider implements PassProvider<AdaLoraConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "adalora";

  /** Used by {@link java.util.ServiceLoader}. */
  public AdaLoraProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "AdaLoRA: adapters W0 x + (alpha/r) P diag(lambda) Q x whose ranks a falling global budget"
        + " allocates across layers by importance (|theta * grad|, EMA x uncertainty), trained"
        + " against the original model with an orthogonality regulariser, then merged";
  }

  @Override
  public Class<AdaLoraConfig> configType() {
    return AdaLoraConfig.class;
  }

  @Override
  public AdaLoraConfig defaults() {
    return AdaLoraConfig.defaults();
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
  public Pass<AdaLoraConfig> create(AdaLoraConfig config) {
    return new AdaLoraPass(config);
  }
}
