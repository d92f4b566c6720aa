package dev.compress.quantization.awq;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import java.util.List;

/** Registers {@link AwqPass} as {@code awq}. */
public final class AwqProvider implements PassProvider<AwqConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "awq";

  /** Used by {@link java.util.ServiceLoader}. */
  public AwqProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Activation-aware weight quantization (AWQ): per-input-channel scales searched on"
        + " calibration data and folded into the preceding norm or linear, then a clip search;"
        + " int4 groups as MatMulNBits";
  }

  @Override
  public Class<AwqConfig> configType() {
    return AwqConfig.class;
  }

  @Override
  public AwqConfig defaults() {
    return AwqConfig.defaults();
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc("bits", "4 (MatMulNBits) or 8 (groupSize 0 only)"),
        new ParamDoc(
            "groupSize",
            "input features per group: 32, 64, 128, or 0 for one group per output channel"),
        new ParamDoc("symmetric", "symmetric grid, else a zero point per group"),
        new ParamDoc(
            "alphaGrid", "alpha in {0, 1/n, ..., (n-1)/n}; 1 means alpha = 0 only, no scaling"),
        new ParamDoc(
            "duoScaling", "s = s_x^alpha / (s_w^(1-alpha) + 1e-4) with s_w from the weights"),
        new ParamDoc(
            "clip",
            "mse: per output channel and group keep max*(1 - i/20), i = 0..9, minimising the"
                + " output error on sampled tokens; none: full range"),
        new ParamDoc("clipTokens", "tokens sampled for the clip search"),
        new ParamDoc("clipIgnore", "layers left out of the clip search (names or re:REGEX)"),
        new ParamDoc(
            "residualMul",
            "when a norm's output also feeds a residual branch (post-norm models such as BERT),"
                + " insert a Mul by s there to keep the function; false: leave such layers"
                + " unscaled"),
        new ParamDoc(
            "accuracyLevel",
            "MatMulNBits accuracy_level: 0 unset, float activations; 4 int8 compute,"
                + " activations quantized to int8 per block by ONNX Runtime and our kernels"));
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<AwqConfig> create(AwqConfig config) {
    return new AwqPass(config);
  }
}
