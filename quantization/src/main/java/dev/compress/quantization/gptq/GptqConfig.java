package dev.compress.quantization.gptq;

import dev.compress.api.layers.TransformerBlocks;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.SelectionBuilder;
import dev.compress.quantization.format.MatMulNBitsLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Configuration of {@link GptqPass}, validated at construction (every problem reported at once).
 *
 * @param selection the linear layers to quantize (null means all)
 * @param bits bits per weight, 2 to 8
 * @param groupSize input features per scale: 0 for one scale per output channel, else a power of
 *     two from 16 to 256 (a MatMulNBits block)
 * @param symmetric symmetric grid (zero point {@code 2^(bits-1)}) or asymmetric (a zero point per
 *     group)
 * @param actOrder quantize columns in order of descending Hessian diagonal ({@code desc_act})
 * @param staticGroups with groups: compute every group's scale and zero point up front on the
 *     unpermuted weight, so that with act-order the groups stay contiguous in the original order
 * @param dampPercent damping {@code lambda = dampPercent * mean(diag H)}, in {@code (0, 1]}
 * @param maxDampPercent when the damped Hessian is not positive definite, {@code dampPercent} is
 *     multiplied by 10 until it exceeds this limit; then the layer fails
 * @param blockSize columns per lazy-batch block (128 in the reference)
 * @param blockPattern regex over layer (node) names whose first capture group numbers the
 *     transformer block; the text up to the end of that group identifies the block. Null for {@link
 *     TransformerBlocks#DEFAULT_PATTERN}
 * @param accuracyLevel {@code accuracy_level} of the MatMulNBits nodes written for 4-bit weights: 0
 *     leaves it unset, float activations; 4 asks for int8 compute (activations quantized to int8
 *     per block by ONNX Runtime and by our kernels)
 */
public record GptqConfig(
    LayerSelection selection,
    @Param("2 to 8; groups need bits <= 4 for ONNX output") int bits,
    @Param(
            "input features per scale, a power of two in [16, 256] dividing every selected layer's"
                + " input features; 0 for per channel")
        int groupSize,
    @Param("symmetric grid, else a zero point per group") boolean symmetric,
    @Param("quantize columns by descending Hessian diagonal") boolean actOrder,
    @Param("fit every group's grid up front on the unpermuted weight") boolean staticGroups,
    @Param("damping as a fraction of mean(diag H), in (0, 1]") double dampPercent,
    @Param("damping is escalated x10 up to this when the Hessian is singular")
        double maxDampPercent,
    @Param("columns per lazy-batch block") int blockSize,
    @Param(
            "regex over node names whose first group numbers the transformer block (the built-in pattern"
                + " matches /encoder/layer.N/, model.layers.N, h.N, blocks.N)")
        String blockPattern,
    @Param(MatMulNBitsLayout.ACCURACY_LEVEL_HELP) int accuracyLevel)
    implements PassConfig {

  /** Validates every field. */
  public GptqConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    blockPattern =
        blockPattern == null || blockPattern.isBlank()
            ? TransformerBlocks.DEFAULT_PATTERN
            : blockPattern;
    List<String> problems = new ArrayList<>();
    if (bits < 2 || bits > 8) {
      problems.add("bits must be in [2, 8], found " + bits);
    }
    if (groupSize != 0
        && !(MatMulNBitsLayout.validBlockSize(groupSize)
            && groupSize <= MatMulNBitsLayout.MAX_ORT_BLOCK_SIZE)) {
      // Groups are written as MatMulNBits blocks: refuse what the format cannot hold now, not
      // after calibration.
      problems.add(
          "groupSize must be 0 (per channel) or a power of two from 16 to "
              + MatMulNBitsLayout.MAX_ORT_BLOCK_SIZE
              + " (MatMulNBits block_size: 16, 32, 64, 128, 256), found "
              + groupSize);
    }
    if (!(dampPercent > 0 && dampPercent <= 1)) {
      problems.add("dampPercent must be in (0, 1], found " + dampPercent);
    }
    if (!(maxDampPercent >= dampPercent) || !Double.isFinite(maxDampPercent)) {
      problems.add(
          "maxDampPercent must be finite and >= dampPercent ("
              + dampPercent
              + "), found "
              + maxDampPercent);
    }
    if (blockSize <= 0) {
      problems.add("blockSize must be > 0, found " + blockSize);
    }
    if (staticGroups && groupSize == 0) {
      problems.add("staticGroups needs groupSize > 0, found groupSize 0");
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
    MatMulNBitsLayout.accuracyLevelProblem(accuracyLevel, groupSize > 0, "groupSize 0")
        .ifPresent(problems::add);
    InvalidConfigException.throwIfAny(problems);
  }

  /** Every default: the values a pipeline gets for the keys it leaves out. */
  public static GptqConfig defaults() {
    return new GptqConfig(LayerSelection.ALL, 4, 128, true, false, false, 0.01, 1.0, 128, null, 0);
  }

  /** A copy with other bits and group size. */
  public GptqConfig withBits(int newBits, int newGroupSize) {
    return toBuilder().bits(newBits).groupSize(newGroupSize).build();
  }

  /** A copy with other act-order and static-group flags. */
  public GptqConfig withOrder(boolean newActOrder, boolean newStaticGroups) {
    return toBuilder().actOrder(newActOrder).staticGroups(newStaticGroups).build();
  }

  /** A copy with another symmetry. */
  public GptqConfig withSymmetric(boolean newSymmetric) {
    return toBuilder().symmetric(newSymmetric).build();
  }

  /** A copy with another selection. */
  public GptqConfig withSelection(LayerSelection newSelection) {
    return toBuilder().selection(newSelection).build();
  }

  /** Columns per group for a layer with {@code inFeatures}: the whole row when per channel. */
  public int effectiveGroupSize(int inFeatures) {
    return groupSize == 0 ? inFeatures : groupSize;
  }

  /** A builder starting from {@link #defaults()}, validated at {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds a {@link GptqConfig}: one setter per key, every value checked at {@link #build()}. */
  public static final class Builder extends SelectionBuilder<GptqConfig, Builder> {
    private Builder(GptqConfig start) {
      super(start);
    }

    /** Sets {@link GptqConfig#bits() bits}. */
    public Builder bits(int v) {
      return set("bits", v);
    }

    /** Sets {@link GptqConfig#groupSize() groupSize}. */
    public Builder groupSize(int v) {
      return set("groupSize", v);
    }

    /** Sets {@link GptqConfig#symmetric() symmetric}. */
    public Builder symmetric(boolean v) {
      return set("symmetric", v);
    }

    /** Sets {@link GptqConfig#actOrder() actOrder}. */
    public Builder actOrder(boolean v) {
      return set("actOrder", v);
    }

    /** Sets {@link GptqConfig#staticGroups() staticGroups}. */
    public Builder staticGroups(boolean v) {
      return set("staticGroups", v);
    }

    /** Sets {@link GptqConfig#dampPercent() dampPercent}. */
    public Builder dampPercent(double v) {
      return set("dampPercent", v);
    }

    /** Sets {@link GptqConfig#maxDampPercent() maxDampPercent}. */
    public Builder maxDampPercent(double v) {
      return set("maxDampPercent", v);
    }

    /** Sets {@link GptqConfig#blockSize() blockSize}. */
    public Builder blockSize(int v) {
      return set("blockSize", v);
    }

    /** Sets {@link GptqConfig#blockPattern() blockPattern}. */
    public Builder blockPattern(String v) {
      return set("blockPattern", v);
    }

    /** Sets {@link GptqConfig#accuracyLevel() accuracyLevel}. */
    public Builder accuracyLevel(int v) {
      return set("accuracyLevel", v);
    }
  }
}
