package dev.compress.lowrank.lora;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link DyLoraPass} as {@code dylora}. */
public final class DyLoraProvider implements PassProvider<DyLoraConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "dylora";

  /** Used by {@link java.util.ServiceLoader}. */
  public DyLoraProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "DyLoRA: LoRA adapters trained at a rank drawn from 1..r each update (the first b"
        + " rows/columns, scaled alpha/b), so every truncation to rank <= r works; keepRank picks"
        + " the rank written";
  }

  @Override
  public Class<DyLoraConfig> configType() {
    return DyLoraConfig.class;
  }

  @Override
  public DyLoraConfig defaults() {
    return DyLoraConfig.defaults();
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
  public Pass<DyLoraConfig> create(DyLoraConfig config) {
    return new DyLoraPass(config);
  }
}
