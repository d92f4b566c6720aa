package dev.compress.quantization.rtn;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.SelectionBuilder;
import dev.compress.quantization.format.MatMulNBitsLayout;
import dev.compress.quantization.grid.Granularity;
import java.util.ArrayList;
import java.util.List;

/**
 * Configuration of {@link RtnPass}, validated at construction.
 *
 * @param selection the linear layers to quantize (null means all)
 * @param bits 4 or 8
 * @param granularity one scale per output channel, or per group of input features (4 bits only: see
 *     the validation message for why 8-bit groups are rejected)
 * @param groupSize input features per group: 32, 64 or 128; ignored (and may be 0) for {@link
 *     Granularity#PER_CHANNEL}
 * @param symmetric symmetric grid (zero point {@code 2^(bits-1)}, not stored) or asymmetric (a zero
 *     point per group, stored)
 * @param embeddings also quantize embedding tables ({@code Gather} from a constant f32 {@code
 *     [rows, dim]} table on axis 0) to 8 bits per row behind {@code DequantizeLinear}, whatever
 *     {@code bits} is; these are not linear layers, so {@code targets}/{@code ignore} do not apply
 *     to them
 * @param clip {@link ClipMethod#NONE}: each group's full min-max range; {@link ClipMethod#MSE}: the
 *     shrunk range that minimises the weight error ({@link ClipSearch}, the GPTQ reference's {@code
 *     mse} option); linear layers only, embedding tables always use the full range
 * @param accuracyLevel {@code accuracy_level} of the MatMulNBits nodes written for 4-bit weights: 0
 *     leaves it unset, float activations; 4 asks for int8 compute (activations quantized to int8
 *     per block by ONNX Runtime and by our kernels; faster at batch 1, see benchmarks/README.md)
 */
public record RtnConfig(
    LayerSelection selection,
    @Param("4 or 8") int bits,
    @Param(
            "per_channel: one scale per output channel; per_group: per groupSize input features"
                + " (bits=4 only)")
        Granularity granularity,
    @Param(
            "input features per group for per_group: 32, 64 or 128; must divide every selected"
                + " layer's input features")
        int groupSize,
    @Param("true: symmetric grid, no stored zero point; false: a zero point per group")
        boolean symmetric,
    @Param(
            "also quantize embedding tables (Gather of a constant [rows, dim] table) to int8 per"
                + " row; not subject to targets/ignore")
        boolean embeddings,
    @Param(
            "none: each group's full min-max range; mse: per row and group, shrink the range by"
                + " p = 1 - i/100 (i < 80) and keep the one minimising sum |w' - w|^2.4 (the GPTQ"
                + " reference's mse option)")
        ClipMethod clip,
    @Param(MatMulNBitsLayout.ACCURACY_LEVEL_HELP) int accuracyLevel)
    implements PassConfig {

  /** The group sizes accepted for {@link Granularity#PER_GROUP}. */
  public static final List<Integer> GROUP_SIZES = List.of(32, 64, 128);

  /** Validates every field and reports all problems at once. */
  public RtnConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    clip = clip == null ? ClipMethod.NONE : clip;
    List<String> problems = new ArrayList<>();
    if (bits != 4 && bits != 8) {
      problems.add("bits must be 4 or 8, found " + bits);
    }
    if (granularity == null) {
      problems.add("granularity must be PER_CHANNEL or PER_GROUP, found null");
    } else if (granularity == Granularity.PER_GROUP && !GROUP_SIZES.contains(groupSize)) {
      problems.add("groupSize must be 32, 64 or 128 for PER_GROUP, found " + groupSize);
    } else if (granularity == Granularity.PER_CHANNEL
        && groupSize != 0
        && !GROUP_SIZES.contains(groupSize)) {
      problems.add("groupSize must be 0, 32, 64 or 128, found " + groupSize);
    }
    if (bits == 8 && granularity == Granularity.PER_GROUP) {
      problems.add(
          "bits=8 with granularity PER_GROUP is not supported: ONNX Runtime 1.22 runs 8-bit"
              + " MatMulNBits only with int8-quantized activations, and blocked DequantizeLinear"
              + " needs opset 21. HINT: use PER_CHANNEL for 8 bits, or bits=4 for groups");
    }
    MatMulNBitsLayout.accuracyLevelProblem(accuracyLevel, bits == 4, "bits=" + bits)
        .ifPresent(problems::add);
    InvalidConfigException.throwIfAny(problems);
  }

  /** A config with {@code accuracy_level} unset. */
  public RtnConfig(
      LayerSelection selection,
      int bits,
      Granularity granularity,
      int groupSize,
      boolean symmetric,
      boolean embeddings,
      ClipMethod clip) {
    this(selection, bits, granularity, groupSize, symmetric, embeddings, clip, 0);
  }

  /** A config without clipping search. */
  public RtnConfig(
      LayerSelection selection,
      int bits,
      Granularity granularity,
      int groupSize,
      boolean symmetric,
      boolean embeddings) {
    this(selection, bits, granularity, groupSize, symmetric, embeddings, ClipMethod.NONE);
  }

  /** A config that leaves embedding tables alone. */
  public RtnConfig(
      LayerSelection selection,
      int bits,
      Granularity granularity,
      int groupSize,
      boolean symmetric) {
    this(selection, bits, granularity, groupSize, symmetric, false, ClipMethod.NONE);
  }

  /** Input features per scale for a layer with {@code inFeatures} of them. */
  public int effectiveGroupSize(int inFeatures) {
    return granularity == Granularity.PER_CHANNEL ? inFeatures : groupSize;
  }

  /** Every default: the values a pipeline gets for the keys it leaves out. */
  public static RtnConfig defaults() {
    return new RtnConfig(
        LayerSelection.ALL, 8, Granularity.PER_CHANNEL, 128, true, false, ClipMethod.NONE);
  }

  /** A builder starting from {@link #defaults()}, validated at {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds a {@link RtnConfig}: one setter per key, every value checked at {@link #build()}. */
  public static final class Builder extends SelectionBuilder<RtnConfig, Builder> {
    private Builder(RtnConfig start) {
      super(start);
    }

    /** Sets {@link RtnConfig#bits() bits}. */
    public Builder bits(int v) {
      return set("bits", v);
    }

    /** Sets {@link RtnConfig#granularity() granularity}. */
    public Builder granularity(Granularity v) {
      return set("granularity", v);
    }

    /** Sets {@link RtnConfig#groupSize() groupSize}. */
    public Builder groupSize(int v) {
      return set("groupSize", v);
    }

    /** Sets {@link RtnConfig#symmetric() symmetric}. */
    public Builder symmetric(boolean v) {
      return set("symmetric", v);
    }

    /** Sets {@link RtnConfig#embeddings() embeddings}. */
    public Builder embeddings(boolean v) {
      return set("embeddings", v);
    }

    /** Sets {@link RtnConfig#clip() clip}. */
    public Builder clip(ClipMethod v) {
      return set("clip", v);
    }

    /** Sets {@link RtnConfig#accuracyLevel() accuracyLevel}. */
    public Builder accuracyLevel(int v) {
      return set("accuracyLevel", v);
    }
  }
}
