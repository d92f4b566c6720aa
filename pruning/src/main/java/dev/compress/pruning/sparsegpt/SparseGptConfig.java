package dev.compress.pruning.sparsegpt;

import dev.compress.api.layers.TransformerBlocks;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
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
    double sparsity,
    String pattern,
    int blockSize,
    double dampPercent,
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

  /** The reference's defaults: 50% unstructured, blocks of 128 columns, 1% damping. */
  public static SparseGptConfig defaults() {
    return new SparseGptConfig(LayerSelection.ALL, 0.5, "unstructured", 128, 0.01, null);
  }

  /** The parsed {@link #pattern}. */
  public SparsityPattern sparsityPattern() {
    return SparsityPattern.parse("pattern", pattern, new ArrayList<>());
  }
}
