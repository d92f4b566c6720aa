package dev.compress.quantization.rtn;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link RtnPass} as {@code rtn-quantization}. */
public final class RtnProvider implements PassProvider<RtnConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "rtn-quantization";

  /** Used by {@link java.util.ServiceLoader}. */
  public RtnProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Round-to-nearest weight quantization: int8 per channel (DequantizeLinear) or int4 per"
        + " channel or group (MatMulNBits), stored as real integer tensors";
  }

  @Override
  public Class<RtnConfig> configType() {
    return RtnConfig.class;
  }

  @Override
  public RtnConfig defaults() {
    return RtnConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return false;
  }

  @Override
  public Pass<RtnConfig> create(RtnConfig config) {
    return new RtnPass(config);
  }
}
