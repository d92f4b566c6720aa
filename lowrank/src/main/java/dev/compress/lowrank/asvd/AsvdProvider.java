package dev.compress.lowrank.asvd;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link AsvdPass} as {@code asvd}. */
public final class AsvdProvider implements PassProvider<AsvdConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "asvd";

  /** Used by {@link java.util.ServiceLoader}. */
  public AsvdProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "ASVD: activation-aware SVD (columns scaled by mean|x|^alpha before, unscaled after) of"
        + " each linear weight into two MatMuls";
  }

  @Override
  public Class<AsvdConfig> configType() {
    return AsvdConfig.class;
  }

  @Override
  public AsvdConfig defaults() {
    return AsvdConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<AsvdConfig> create(AsvdConfig config) {
    return new AsvdPass(config);
  }
}
