package dev.compress.pruning.wanda;

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
    LayerSelection selection, double sparsity, String pattern, String blockPattern)
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

  /** The reference's default: 50% unstructured. */
  public static WandaConfig defaults() {
    return new WandaConfig(LayerSelection.ALL, 0.5, "unstructured", null);
  }

  /** The parsed {@link #pattern}. */
  public SparsityPattern sparsityPattern() {
    return SparsityPattern.parse("pattern", pattern, new ArrayList<>());
  }
}
