package dev.compress.pruning.magnitude;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
import dev.compress.pruning.mask.SparsityPattern;
import java.util.ArrayList;
import java.util.List;

/**
 * Configuration of {@link MagnitudePruningPass}, validated at construction.
 *
 * @param selection the linear layers to prune (null means all)
 * @param sparsity the fraction of weights to zero, in {@code [0, 1)}
 * @param scope whether each layer loses that fraction of its own weights, or the selected layers
 *     together lose it under one global magnitude threshold
 * @param pattern {@code unstructured} (null or blank too), or {@code N:M}: in every group of M
 *     consecutive input features of an output row the N smallest are zeroed (e.g. {@code 2:4});
 *     {@code sparsity} is then N/M and its own value is not used, and the scope must be per layer
 */
public record MagnitudePruningConfig(
    LayerSelection selection, double sparsity, Scope scope, String pattern) implements PassConfig {

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
    SparsityPattern p = SparsityPattern.parse("pattern", pattern, problems);
    pattern = p.toString();
    if (!p.unstructured() && scope == Scope.GLOBAL) {
      problems.add("scope must be PER_LAYER with pattern " + p + " (N:M is per row), found GLOBAL");
    }
    InvalidConfigException.throwIfAny(problems);
  }

  /** Unstructured pruning. */
  public MagnitudePruningConfig(LayerSelection selection, double sparsity, Scope scope) {
    this(selection, sparsity, scope, null);
  }

  /** The parsed {@link #pattern}. */
  public SparsityPattern sparsityPattern() {
    return SparsityPattern.parse("pattern", pattern, new ArrayList<>());
  }
}
