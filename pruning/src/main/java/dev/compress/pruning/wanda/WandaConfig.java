package dev.compress.pruning.wanda;

import dev.compress.api.layers.TransformerBlocks;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.SelectionBuilder;
import dev.compress.pruning.mask.SparsityPattern;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Configuration of {@link WandaPass}, validated at construction (every problem at once).
 *
 * @param selection the linear layers to prune (null means all)
 * @param sparsity the fraction of each output row's weights to zero, in {@code [0, 1)}
 *     (unstructured)
 * @param pattern {@code unstructured} (null or blank too), or {@code N:M} (e.g. {@code 2:4}): N of
 *     every M consecutive input weights of an output row are zeroed, {@code sparsity} not used
 * @param blockPattern regex over layer names whose first capture group numbers the transformer
 *     block; null for {@link TransformerBlocks#DEFAULT_PATTERN}
 */
public record WandaConfig(
    LayerSelection selection,
    @Param("fraction of each output row's weights to zero, in [0, 1)") double sparsity,
    @Param(
            "unstructured, or N:M (e.g. 2:4): N of every M consecutive input weights of a row"
                + " zeroed (sparsity not used)")
        String pattern,
    @Param("regex over layer names whose first group numbers the transformer block")
        String blockPattern)
    implements PassConfig {

  /** Validates every field. */
  public WandaConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    blockPattern =
        blockPattern == null || blockPattern.isBlank()
            ? TransformerBlocks.DEFAULT_PATTERN
            : blockPattern;
    List<String> problems = new ArrayList<>();
    if (!(sparsity >= 0 && sparsity < 1)) {
      problems.add("sparsity must be in [0, 1), found " + sparsity);
    }
    pattern = SparsityPattern.parse("pattern", pattern, problems).toString();
    try {
      if (Pattern.compile(blockPattern).matcher("").groupCount() < 1) {
        problems.add(
            "blockPattern must have a capture group for the block number, found " + blockPattern);
      }
    } catch (PatternSyntaxException e) {
      problems.add(
          "blockPattern is not a valid regex: " + e.getDescription() + ", found " + blockPattern);
    }
    InvalidConfigException.throwIfAny(problems);
  }

  /** Every default (the reference's): the values a pipeline gets for the keys it leaves out. */
  public static WandaConfig defaults() {
    return new WandaConfig(LayerSelection.ALL, 0.5, "unstructured", null);
  }

  /** The parsed {@link #pattern}. */
  public SparsityPattern sparsityPattern() {
    return SparsityPattern.parse("pattern", pattern, new ArrayList<>());
  }

  /** A builder starting from {@link #defaults()}, validated at {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds a {@link WandaConfig}: one setter per key, every value checked at {@link #build()}. */
  public static final class Builder extends SelectionBuilder<WandaConfig, Builder> {
    private Builder(WandaConfig start) {
      super(start);
    }

    /** Sets {@link WandaConfig#sparsity() sparsity}. */
    public Builder sparsity(double v) {
      return set("sparsity", v);
    }

    /** Sets {@link WandaConfig#pattern() pattern}. */
    public Builder pattern(String v) {
      return set("pattern", v);
    }

    /** Sets {@link WandaConfig#blockPattern() blockPattern}. */
    public Builder blockPattern(String v) {
      return set("blockPattern", v);
    }
  }
}
