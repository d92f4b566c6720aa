package dev.compress.pruning.wanda;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link WandaPass} as {@code wanda}. */
public final class WandaProvider implements PassProvider<WandaConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "wanda";

  /** Used by {@link java.util.ServiceLoader}. */
  public WandaProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Wanda: prune by |w| x input activation norm within each output row, unstructured or"
        + " N:M, no weight update (weights stay dense; ORT is not faster)";
  }

  @Override
  public Class<WandaConfig> configType() {
    return WandaConfig.class;
  }

  @Override
  public WandaConfig defaults() {
    return WandaConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<WandaConfig> create(WandaConfig config) {
    return new WandaPass(config);
  }
}
