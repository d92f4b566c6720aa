package dev.compress.quantization.gptq;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link GptqPass} as {@code gptq}. */
public final class GptqProvider implements PassProvider<GptqConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "gptq";

  /** Used by {@link java.util.ServiceLoader}. */
  public GptqProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "GPTQ weight quantization (Frantar et al. 2022): Hessian-aware rounding with error"
        + " feedback, transformer blocks calibrated in sequence; MatMulNBits / DequantizeLinear"
        + " output";
  }

  @Override
  public Class<GptqConfig> configType() {
    return GptqConfig.class;
  }

  @Override
  public GptqConfig defaults() {
    return GptqConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<GptqConfig> create(GptqConfig config) {
    return new GptqPass(config);
  }
}
