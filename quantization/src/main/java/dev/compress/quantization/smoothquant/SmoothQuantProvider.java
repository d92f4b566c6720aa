package dev.compress.quantization.smoothquant;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link SmoothQuantPass} as {@code smoothquant}. */
public final class SmoothQuantProvider implements PassProvider<SmoothQuantConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "smoothquant";

  /** Used by {@link java.util.ServiceLoader}. */
  public SmoothQuantProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "SmoothQuant: migrate activation outliers into the weights (norm gamma/beta / s, linear"
        + " weights * s); the float function is unchanged; run before W8A8 quantization";
  }

  @Override
  public Class<SmoothQuantConfig> configType() {
    return SmoothQuantConfig.class;
  }

  @Override
  public SmoothQuantConfig defaults() {
    return SmoothQuantConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<SmoothQuantConfig> create(SmoothQuantConfig config) {
    return new SmoothQuantPass(config);
  }
}
