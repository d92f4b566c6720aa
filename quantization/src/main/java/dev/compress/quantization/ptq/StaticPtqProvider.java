package dev.compress.quantization.ptq;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link StaticPtqPass} as {@code ptq-static}. */
public final class StaticPtqProvider implements PassProvider<StaticPtqConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "ptq-static";

  /** Used by {@link java.util.ServiceLoader}. */
  public StaticPtqProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Static W8A8: calibrated per-tensor uint8 activations and int8 per-channel weights as"
        + " ONNX QDQ, run by ONNX Runtime's integer kernels";
  }

  @Override
  public Class<StaticPtqConfig> configType() {
    return StaticPtqConfig.class;
  }

  @Override
  public StaticPtqConfig defaults() {
    return StaticPtqConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<StaticPtqConfig> create(StaticPtqConfig config) {
    return new StaticPtqPass(config);
  }
}
