package dev.compress.quantization.qat;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link QatPass} as {@code qat}. */
public final class QatProvider implements PassProvider<QatConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "qat";

  /** Used by {@link java.util.ServiceLoader}. */
  public QatProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Quantization-aware training: fake-quantized weights (and int8 activations) trained"
        + " against the float model with the straight-through estimator and LSQ step sizes, then"
        + " stored as MatMulNBits, DequantizeLinear or QDQ";
  }

  @Override
  public Class<QatConfig> configType() {
    return QatConfig.class;
  }

  @Override
  public QatConfig defaults() {
    return QatConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public boolean needsTeacher() {
    return true;
  }

  @Override
  public Pass<QatConfig> create(QatConfig config) {
    return new QatPass(config);
  }
}
