package dev.compress.quantization.awq;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.SelectionBuilder;
import dev.compress.quantization.format.MatMulNBitsLayout;
import dev.compress.quantization.rtn.ClipMethod;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Configuration of {@link AwqPass}, validated at construction.
 *
 * @param selection the linear layers to quantize (null means all)
 * @param bits 4 (MatMulNBits) or 8 (per channel only, DequantizeLinear)
 * @param groupSize input features per group: 32, 64 or 128, or 0 for one group per output channel
 * @param symmetric symmetric grid, or asymmetric with a zero point per group (as in AWQ)
 * @param alphaGrid number of grid points of the scale exponent: alpha in {@code {0, 1/n, ..., (n -
 *     1)/n}}; 20 (the reference's {@code {0, 0.05, ..., 0.95}}); 1 searches only alpha = 0 (no
 *     scaling)
 * @param duoScaling {@code s = s_x^alpha / (s_w^(1 - alpha) + 1e-4)} with {@code s_w} the mean over
 *     output rows of {@code |W| / max|W|} of each group (AutoAWQ's {@code duo_scaling}); false:
 *     {@code s = s_x^alpha}
 * @param clip {@link ClipMethod#MSE}: AWQ's clip search on the output error of sampled tokens;
 *     {@link ClipMethod#NONE}: full min-max range
 * @param clipTokens tokens sampled for the clip search (the reference's {@code n_sample_token} =
 *     512)
 * @param clipIgnore layers left out of the clip search (exact names or {@code re:REGEX}); the
 *     reference skips query/key projections, whose error the attention softmax amplifies
 * @param residualMul when a folding target's output also feeds nodes outside the scaled layers (the
 *     residual branch of a post-norm transformer such as BERT), keep the function by inserting one
 *     {@code Mul} by {@code s} on those paths; false: leave such layers unscaled
 * @param accuracyLevel {@code accuracy_level} of the MatMulNBits nodes written for 4-bit weights: 0
 *     leaves it unset, float activations; 4 asks for int8 compute (activations quantized to int8
 *     per block by ONNX Runtime and by our kernels)
 */
public record AwqConfig(
    LayerSelection selection,
    @Param("4 (MatMulNBits) or 8 (groupSize 0 only)") int bits,
    @Param("input features per group: 32, 64, 128, or 0 for one group per output channel")
        int groupSize,
    @Param("symmetric grid, else a zero point per group") boolean symmetric,
    @Param("alpha in {0, 1/n, ..., (n-1)/n}; 1 means alpha = 0 only, no scaling") int alphaGrid,
    @Param("s = s_x^alpha / (s_w^(1-alpha) + 1e-4) with s_w from the weights") boolean duoScaling,
    @Param(
            "mse: per output channel and group keep max*(1 - i/20), i = 0..9, minimising the"
                + " output error on sampled tokens; none: full range")
        ClipMethod clip,
    @Param("tokens sampled for the clip search") int clipTokens,
    @Param("layers left out of the clip search (names or re:REGEX)") List<String> clipIgnore,
    @Param(
            "when a norm's output also feeds a residual branch (post-norm models such as BERT),"
                + " insert a Mul by s there to keep the function; false: leave such layers"
                + " unscaled")
        boolean residualMul,
    @Param(MatMulNBitsLayout.ACCURACY_LEVEL_HELP) int accuracyLevel)
    implements PassConfig {

  /** The reference's clip exclusions: query and key projections. */
  public static final List<String> DEFAULT_CLIP_IGNORE = List.of("re:.*(q_|k_|query|key|Wqkv).*");

  /** Validates every field and reports all problems at once. */
  public AwqConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    clip = clip == null ? ClipMethod.MSE : clip;
    clipIgnore = clipIgnore == null ? DEFAULT_CLIP_IGNORE : List.copyOf(clipIgnore);
    List<String> problems = new ArrayList<>();
    if (bits != 4 && bits != 8) {
      problems.add("bits must be 4 or 8, found " + bits);
    }
    if (groupSize != 0 && groupSize != 32 && groupSize != 64 && groupSize != 128) {
      problems.add("groupSize must be 0 (per channel), 32, 64 or 128, found " + groupSize);
    }
    if (bits == 8 && groupSize != 0) {
      problems.add(
          "bits=8 needs groupSize 0 (per channel, DequantizeLinear): ONNX Runtime 1.22 runs 8-bit"
              + " MatMulNBits only with int8 activations; found groupSize "
              + groupSize);
    }
    if (alphaGrid < 1 || alphaGrid > 1000) {
      problems.add("alphaGrid must be in [1, 1000], found " + alphaGrid);
    }
    if (clipTokens < 1) {
      problems.add("clipTokens must be >= 1, found " + clipTokens);
    }
    for (int i = 0; i < clipIgnore.size(); i++) {
      String s = clipIgnore.get(i);
      if (s == null || s.isBlank() || s.equals("re:")) {
        problems.add("clipIgnore[" + i + "] must be a layer name or re:REGEX, found '" + s + "'");
      } else if (s.startsWith("re:")) {
        try {
          Pattern.compile(s.substring(3));
        } catch (PatternSyntaxException e) {
          problems.add("clipIgnore[" + i + "] is not a valid regex: '" + s + "'");
        }
      }
    }
    MatMulNBitsLayout.accuracyLevelProblem(accuracyLevel, bits == 4, "bits=" + bits)
        .ifPresent(problems::add);
    InvalidConfigException.throwIfAny(problems);
  }

  /** Every default: the values a pipeline gets for the keys it leaves out. */
  public static AwqConfig defaults() {
    return new AwqConfig(
        LayerSelection.ALL,
        4,
        128,
        false,
        20,
        false,
        ClipMethod.MSE,
        512,
        DEFAULT_CLIP_IGNORE,
        true,
        0);
  }

  /** Input features per scale for a layer with {@code inFeatures} of them. */
  public int effectiveGroupSize(int inFeatures) {
    return groupSize == 0 ? inFeatures : groupSize;
  }

  /** The alpha of grid point {@code i}. */
  public double alpha(int i) {
    return (double) i / alphaGrid;
  }

  /** A builder starting from {@link #defaults()}, validated at {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds a {@link AwqConfig}: one setter per key, every value checked at {@link #build()}. */
  public static final class Builder extends SelectionBuilder<AwqConfig, Builder> {
    private Builder(AwqConfig start) {
      super(start);
    }

    /** Sets {@link AwqConfig#bits() bits}. */
    public Builder bits(int v) {
      return set("bits", v);
    }

    /** Sets {@link AwqConfig#groupSize() groupSize}. */
    public Builder groupSize(int v) {
      return set("groupSize", v);
    }

    /** Sets {@link AwqConfig#symmetric() symmetric}. */
    public Builder symmetric(boolean v) {
      return set("symmetric", v);
    }

    /** Sets {@link AwqConfig#alphaGrid() alphaGrid}. */
    public Builder alphaGrid(int v) {
      return set("alphaGrid", v);
    }

    /** Sets {@link AwqConfig#duoScaling() duoScaling}. */
    public Builder duoScaling(boolean v) {
      return set("duoScaling", v);
    }

    /** Sets {@link AwqConfig#clip() clip}. */
    public Builder clip(ClipMethod v) {
      return set("clip", v);
    }

    /** Sets {@link AwqConfig#clipTokens() clipTokens}. */
    public Builder clipTokens(int v) {
      return set("clipTokens", v);
    }

    /** Sets {@link AwqConfig#clipIgnore() clipIgnore}. */
    public Builder clipIgnore(String... v) {
      return set("clipIgnore", List.of(v));
    }

    /** Sets {@link AwqConfig#residualMul() residualMul}. */
    public Builder residualMul(boolean v) {
      return set("residualMul", v);
    }

    /** Sets {@link AwqConfig#accuracyLevel() accuracyLevel}. */
    public Builder accuracyLevel(int v) {
      return set("accuracyLevel", v);
    }
  }
}
