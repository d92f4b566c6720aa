package dev.compress.lowrank.lora;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link LoraMergePass} as {@code lora-merge}. */
public final class LoraMergeProvider implements PassProvider<LoraMergeConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "lora-merge";

  /** Used by {@link java.util.ServiceLoader}. */
  public LoraMergeProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "merge a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) into the"
        + " model's matching MatMul/Gemm layers: W0 += (lora_alpha/r) B A";
  }

  @Override
  public Class<LoraMergeConfig> configType() {
    return LoraMergeConfig.class;
  }

  @Override
  public LoraMergeConfig defaults() {
    return LoraMergeConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return false;
  }

  @Override
  public Pass<LoraMergeConfig> create(LoraMergeConfig config) {
    return new LoraMergePass(config);
  }
}
