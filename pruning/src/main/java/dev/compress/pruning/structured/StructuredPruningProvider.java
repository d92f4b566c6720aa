package dev.compress.pruning.structured;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link StructuredPruningPass} as {@code structured-pruning}. */
public final class StructuredPruningProvider implements PassProvider<StructuredPruningConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "structured-pruning";

  /** Used by {@link java.util.ServiceLoader}. */
  public StructuredPruningProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Structured pruning: remove whole attention heads and FFN neurons through dependency"
        + " groups under a FLOPs or parameter budget, then least-squares rescaling (the file"
        + " shrinks and runs faster)";
  }

  @Override
  public Class<StructuredPruningConfig> configType() {
    return StructuredPruningConfig.class;
  }

  @Override
  public StructuredPruningConfig defaults() {
    return StructuredPruningConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<StructuredPruningConfig> create(StructuredPruningConfig config) {
    return new StructuredPruningPass(config);
  }
}
