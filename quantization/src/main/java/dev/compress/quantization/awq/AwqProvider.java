package dev.compress.quantization.awq;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

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
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<AwqConfig> create(AwqConfig config) {
    return new AwqPass(config);
  }
}
