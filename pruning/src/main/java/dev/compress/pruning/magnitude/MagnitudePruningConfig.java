package dev.compress.pruning.magnitude;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Configuration of {@link MagnitudePruningPass}, validated at construction.
 *
 * @param selection the linear layers to prune (null means all)
 * @param sparsity the fraction of weights to zero, in {@code [0, 1)}
 * @param scope whether each layer loses that fraction of its own weights, or the selected layers
 *     together lose it under one global magnitude threshold
 */
public record MagnitudePruningConfig(LayerSelection selection, double sparsity, Scope scope)
    implements PassConfig {

  /** Where the magnitude threshold is computed. */
  public enum Scope {
    /** Each layer's own threshold: every layer reaches the target sparsity. */
    PER_LAYER,
    /**
     * One threshold over all selected layers: the overall sparsity reaches the target, layers with
     * smaller weights lose more.
     */
    GLOBAL
  }

  /** Validates every field and reports all problems at once. */
  public MagnitudePruningConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    List<String> problems = new ArrayList<>();
    if (!(sparsity >= 0 && sparsity < 1)) {
      problems.add("sparsity must be in [0, 1), found " + sparsity);
    }
    if (scope == null) {
      problems.add("scope must be PER_LAYER or GLOBAL, found null");
    }
    InvalidConfigException.throwIfAny(problems);
  }
}
