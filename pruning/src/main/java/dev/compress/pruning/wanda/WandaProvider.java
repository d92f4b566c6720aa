package dev.compress.pruning.wanda;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import java.util.List;

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
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc("sparsity", "fraction of each output row's weights to zero, in [0, 1)"),
        new ParamDoc(
            "pattern",
            "unstructured, or N:M (e.g. 2:4): N of every M consecutive input weights of a row"
                + " zeroed (sparsity not used)"),
        new ParamDoc(
            "blockPattern",
            "regex over layer names whose first group numbers the transformer block"));
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
