package dev.compress.quantization.ptq;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link DynamicPtqPass} as {@code ptq-dynamic}. */
public final class DynamicPtqProvider implements PassProvider<DynamicPtqConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "ptq-dynamic";

  /** Used by {@link java.util.ServiceLoader}. */
  public DynamicPtqProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Dynamic W8A8: int8 per-channel weights, uint8 activations quantized at run time"
        + " (DynamicQuantizeLinear + MatMulInteger, ONNX Runtime's dynamic pattern)";
  }

  @Override
  public Class<DynamicPtqConfig> configType() {
    return DynamicPtqConfig.class;
  }

  @Override
  public DynamicPtqConfig defaults() {
    return DynamicPtqConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return false;
  }

  @Override
  public Pass<DynamicPtqConfig> create(DynamicPtqConfig config) {
    return new DynamicPtqPass(config);
  }
}
