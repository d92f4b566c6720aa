package dev.compress.distillation.layerdrop;

import dev.compress.api.layers.TransformerBlocks;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.RecordBuilder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Configuration of {@link LayerDropPass}, validated at construction. At most one of {@code keep}
 * and {@code keepEvenly} is given; with neither, every other block is kept ({@code [0, 2, 4, ...]},
 * DistilBERT's student).
 *
 * @param keep the transformer blocks to keep, by position in graph order (0 = first block), in any
 *     order (they run in graph order); at least one, no repeats, none negative (the upper bound is
 *     checked against the model)
 * @param keepEvenly keep this many blocks spread evenly over the model: block {@code floor(i * n /
 *     keepEvenly)} for {@code i = 0 .. keepEvenly-1} of {@code n} blocks
 * @param blockPattern regex over node names whose first capture group numbers the block ({@link
 *     TransformerBlocks#DEFAULT_PATTERN} when null or blank)
 */
public record LayerDropConfig(
    @Param(
            "the blocks to keep, by position (0 = first), e.g. [0, 2, 4]; at least one, no"
                + " repeats; without keep and keepEvenly every other block is kept")
        Optional<List<Integer>> keep,
    @Param("instead of keep: this many blocks spread evenly (block floor(i*n/k) of n)")
        Optional<Integer> keepEvenly,
    @Param("regex over node names whose first capture group numbers the transformer block")
        String blockPattern)
    implements PassConfig {

  /** Validates every field and reports all problems at once. */
  public LayerDropConfig {
    keep = keep == null ? Optional.empty() : keep.map(List::copyOf);
    keepEvenly = keepEvenly == null ? Optional.empty() : keepEvenly;
    blockPattern =
        blockPattern == null || blockPattern.isBlank()
            ? TransformerBlocks.DEFAULT_PATTERN
            : blockPattern;
    List<String> problems = new ArrayList<>();
    if (keep.isPresent() && keepEvenly.isPresent()) {
      problems.add(
          "keep and keepEvenly: give one of them, found keep "
              + keep.get()
              + " and keepEvenly "
              + keepEvenly.get());
    }
    if (keep.isPresent()) {
      List<Integer> k = keep.get();
      if (k.isEmpty()) {
        problems.add("keep must name at least one block, found []");
      }
      Set<Integer> seen = new HashSet<>();
      for (int i = 0; i < k.size(); i++) {
        if (k.get(i) < 0) {
          problems.add("keep[" + i + "] must be >= 0, found " + k.get(i));
        } else if (!seen.add(k.get(i))) {
          problems.add("keep must not repeat a block, found " + k.get(i) + " twice in " + k);
        }
      }
    }
    if (keepEvenly.isPresent() && keepEvenly.get() < 1) {
      problems.add("keepEvenly must be >= 1, found " + keepEvenly.get());
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

  /** Keeps the given blocks. */
  public static LayerDropConfig keeping(Integer... blocks) {
    return new LayerDropConfig(Optional.of(List.of(blocks)), Optional.empty(), null);
  }

  /** Keeps {@code count} blocks spread evenly. */
  public static LayerDropConfig keepingEvenly(int count) {
    return new LayerDropConfig(Optional.empty(), Optional.of(count), null);
  }

  /** Layer drop works on whole blocks, not on a layer selection: every layer. */
  @Override
  public LayerSelection selection() {
    return LayerSelection.ALL;
  }

  /**
   * The kept block positions, ascending, for a model of {@code blocks} blocks.
   *
   * @throws InvalidConfigException when an index of {@code keep} is {@code >= blocks} or {@code
   *     keepEvenly > blocks}
   */
  public List<Integer> resolve(int blocks) {
    List<String> problems = new ArrayList<>();
    List<Integer> out = new ArrayList<>();
    String range = blocks == 1 ? "(block 0)" : "(blocks 0.." + (blocks - 1) + ")";
    if (keep.isPresent()) {
      List<Integer> k = keep.get();
      for (int i = 0; i < k.size(); i++) {
        if (k.get(i) >= blocks) {
          problems.add(
              "keep["
                  + i
                  + "] = "
                  + k.get(i)
                  + " is out of range: the model has "
                  + blocks
                  + " transformer blocks "
                  + range);
        }
      }
      out.addAll(k);
    } else if (keepEvenly.isPresent()) {
      int n = keepEvenly.get();
      if (n > blocks) {
        problems.add(
            "keepEvenly = " + n + " is more than the model's " + blocks + " transformer blocks");
      }
      for (int i = 0; i < n; i++) {
        out.add((int) ((long) i * blocks / n));
      }
    } else {
      for (int i = 0; i < blocks; i += 2) {
        out.add(i);
      }
    }
    InvalidConfigException.throwIfAny(problems);
    return out.stream().sorted().toList();
  }

  /** Every default: the values a pipeline gets for the keys it leaves out. */
  public static LayerDropConfig defaults() {
    return new LayerDropConfig(Optional.empty(), Optional.empty(), null);
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
   * Builds a {@link LayerDropConfig}: one setter per key, every value checked at {@link #build()}.
   */
  public static final class Builder extends RecordBuilder<LayerDropConfig, Builder> {
    private Builder(LayerDropConfig start) {
      super(start);
    }

    /** Sets {@link LayerDropConfig#keep() keep}. */
    public Builder keep(Integer... v) {
      return set("keep", Optional.of(List.of(v)));
    }

    /** Sets {@link LayerDropConfig#keepEvenly() keepEvenly}. */
    public Builder keepEvenly(int v) {
      return set("keepEvenly", Optional.of(v));
    }

    /** Sets {@link LayerDropConfig#blockPattern() blockPattern}. */
    public Builder blockPattern(String v) {
      return set("blockPattern", v);
    }
  }
}
