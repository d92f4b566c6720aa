package dev.compress.quantization.awq;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
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
 * @param symmetric symmetric grid, or asymmetric with a zero point per group (the AWQ default)
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
 *     (default) leaves it unset, float activations; 4 asks for int8 compute (activations quantized
 *     to int8 per block by ONNX Runtime and by our kernels)
 */
public record AwqConfig(
    LayerSelection selection,
    int bits,
    int groupSize,
    boolean symmetric,
    int alphaGrid,
    boolean duoScaling,
    ClipMethod clip,
    int clipTokens,
    List<String> clipIgnore,
    boolean residualMul,
    int accuracyLevel)
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

  /** The defaults: 4 bits, asymmetric, group 128, 20 alphas, clip search on, no duo scaling. */
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
}
