package dev.compress.lowrank.svd;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link SvdPass} as {@code svd}. */
public final class SvdProvider implements PassProvider<SvdConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "svd";

  /** Used by {@link java.util.ServiceLoader}. */
  public SvdProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Truncated SVD of each linear weight into two MatMuls (fewer parameters, faster);"
        + " data-free";
  }

  @Override
  public Class<SvdConfig> configType() {
    return SvdConfig.class;
  }

  @Override
  public SvdConfig defaults() {
    return SvdConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return false;
  }

  @Override
  public Pass<SvdConfig> create(SvdConfig config) {
    return new SvdPass(config);
  }
}
