package dev.compress.quantization.gptq;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import java.util.List;

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
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc("bits", "2 to 8; groups need bits <= 4 for ONNX output"),
        new ParamDoc(
            "groupSize",
            "input features per scale, a power of two in [16, 256] dividing every selected layer's"
                + " input features; 0 for per channel"),
        new ParamDoc("symmetric", "symmetric grid, else a zero point per group"),
        new ParamDoc("actOrder", "quantize columns by descending Hessian diagonal"),
        new ParamDoc("staticGroups", "fit every group's grid up front on the unpermuted weight"),
        new ParamDoc("dampPercent", "damping as a fraction of mean(diag H), in (0, 1]"),
        new ParamDoc(
            "maxDampPercent", "damping is escalated x10 up to this when the Hessian is singular"),
        new ParamDoc("blockSize", "columns per lazy-batch block"),
        new ParamDoc(
            "blockPattern",
            "regex over node names whose first group numbers the transformer block (the default"
                + " matches /encoder/layer.N/, model.layers.N, h.N, blocks.N)"),
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
  public Pass<GptqConfig> create(GptqConfig config) {
    return new GptqPass(config);
  }
}
