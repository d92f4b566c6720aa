package dev.compress.quantization.ptq;

import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import java.util.List;

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
    return new DynamicPtqConfig(LayerSelection.ALL, false);
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc(
            "embeddings",
            "also store embedding tables (Gather of a constant [rows, dim]) as int8 per row; not"
                + " subject to targets/ignore"));
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
