package dev.compress.pruning.sparsegpt;

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
 * Configuration of {@link SparseGptPass}, validated at construction (every problem at once).
 *
 * @param selection the linear layers to prune (null means all)
 * @param sparsity the fraction of each layer's weights to zero, in {@code [0, 1)} (unstructured)
 * @param pattern {@code unstructured} (null or blank too), or {@code N:M} (e.g. {@code 2:4}): N of
 *     every M consecutive input weights of an output row are zeroed, {@code sparsity} not used
 * @param blockSize columns per lazy block, the unit of the unstructured mask (128 in the
 *     reference); a multiple of M with an N:M pattern
 * @param dampPercent damping {@code lambda = dampPercent * mean(diag H)}, in {@code (0, 1]}
 * @param blockPattern regex over layer names whose first capture group numbers the transformer
 *     block; null for {@link TransformerBlocks#DEFAULT_PATTERN}
 */
public record SparseGptConfig(
    LayerSelection selection,
    @Param("fraction of each layer's weights to zero, in [0, 1)") double sparsity,
    @Param(
            "unstructured, or N:M (e.g. 2:4): N of every M consecutive input weights of a row"
                + " zeroed, chosen inside the sweep (sparsity not used)")
        String pattern,
    @Param("columns per lazy block and per unstructured mask (128; a multiple of M)") int blockSize,
    @Param("damping lambda = dampPercent * mean(diag H), in (0, 1]") double dampPercent,
    @Param("regex over layer names whose first group numbers the transformer block")
        String blockPattern)
    implements PassConfig {

  /** Validates every field. */
  public SparseGptConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    blockPattern =
        blockPattern == null || blockPattern.isBlank()
            ? TransformerBlocks.DEFAULT_PATTERN
            : blockPattern;
    List<String> problems = new ArrayList<>();
    if (!(sparsity >= 0 && sparsity < 1)) {
      problems.add("sparsity must be in [0, 1), found " + sparsity);
    }
    SparsityPattern p = SparsityPattern.parse("pattern", pattern, problems);
    pattern = p.toString();
    if (blockSize <= 0) {
      problems.add("blockSize must be > 0, found " + blockSize);
    } else if (!p.unstructured() && blockSize % p.m() != 0) {
      problems.add("blockSize must be a multiple of M with pattern " + p + ", found " + blockSize);
    }
    if (!(dampPercent > 0 && dampPercent <= 1)) {
      problems.add("dampPercent must be in (0, 1], found " + dampPercent);
    }
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
  public static SparseGptConfig defaults() {
    return new SparseGptConfig(LayerSelection.ALL, 0.5, "unstructured", 128, 0.01, null);
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

  /**
   * Builds a {@link SparseGptConfig}: one setter per key, every value checked at {@link #build()}.
   */
  public static final class Builder extends SelectionBuilder<SparseGptConfig, Builder> {
    private Builder(SparseGptConfig start) {
      super(start);
    }

    /** Sets {@link SparseGptConfig#sparsity() sparsity}. */
    public Builder sparsity(double v) {
      return set("sparsity", v);
    }

    /** Sets {@link SparseGptConfig#pattern() pattern}. */
    public Builder pattern(String v) {
      return set("pattern", v);
    }

    /** Sets {@link SparseGptConfig#blockSize() blockSize}. */
    public Builder blockSize(int v) {
      return set("blockSize", v);
    }

    /** Sets {@link SparseGptConfig#dampPercent() dampPercent}. */
    public Builder dampPercent(double v) {
      return set("dampPercent", v);
    }

    /** Sets {@link SparseGptConfig#blockPattern() blockPattern}. */
    public Builder blockPattern(String v) {
      return set("blockPattern", v);
    }
  }
}
