package dev.compress.pruning.magnitude;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link MagnitudePruningPass} as {@code magnitude-pruning}. */
public final class MagnitudePruningProvider implements PassProvider<MagnitudePruningConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "magnitude-pruning";

  /** Used by {@link java.util.ServiceLoader}. */
  public MagnitudePruningProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Magnitude pruning: zero the smallest |w|, per layer, under one global threshold, or N:M"
        + " (2:4) per row (weights stay dense: the file does not shrink, ORT is not faster)";
  }

  @Override
  public Class<MagnitudePruningConfig> configType() {
    return MagnitudePruningConfig.class;
  }

  @Override
  public MagnitudePruningConfig defaults() {
    return MagnitudePruningConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return false;
  }

  @Override
  public Pass<MagnitudePruningConfig> create(MagnitudePruningConfig config) {
    return new MagnitudePruningPass(config);
  }
}
