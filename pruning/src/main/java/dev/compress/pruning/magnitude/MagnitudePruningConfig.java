package dev.compress.pruning.magnitude;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.SelectionBuilder;
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
    LayerSelection selection,
    @Param("fraction of weights to zero, in [0, 1)") double sparsity,
    @Param(
            "per_layer: every layer reaches the sparsity; global: one magnitude threshold across"
                + " the selected layers")
        Scope scope,
    @Param(
            "unstructured, or N:M (e.g. 2:4, 4:8): the N smallest of every M consecutive input"
                + " weights of an output row are zeroed (sparsity is then N/M)")
        String pattern)
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

  /** Every default: the values a pipeline gets for the keys it leaves out. */
  public static MagnitudePruningConfig defaults() {
    return new MagnitudePruningConfig(
        LayerSelection.ALL, 0.5, MagnitudePruningConfig.Scope.PER_LAYER, "unstructured");
  }

  /** A builder starting from {@link #defaults()}, validated at {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * Builds a {@link MagnitudePruningConfig}: one setter per key, every value checked at {@link
   * #build()}.
   */
  public static final class Builder extends SelectionBuilder<MagnitudePruningConfig, Builder> {
    private Builder(MagnitudePruningConfig start) {
      super(start);
    }

    /** Sets {@link MagnitudePruningConfig#sparsity() sparsity}. */
    public Builder sparsity(double v) {
      return set("sparsity", v);
    }

    /** Sets {@link MagnitudePruningConfig#scope() scope}. */
    public Builder scope(Scope v) {
      return set("scope", v);
    }

    /** Sets {@link MagnitudePruningConfig#pattern() pattern}. */
    public Builder pattern(String v) {
      return set("pattern", v);
    }
  }
}
