package dev.compress.quantization.rtn;

import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import dev.compress.quantization.grid.Granularity;
import java.util.List;

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
    return new RtnConfig(
        LayerSelection.ALL, 8, Granularity.PER_CHANNEL, 128, true, false, ClipMethod.NONE);
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc("bits", "4 or 8"),
        new ParamDoc(
            "granularity",
            "per_channel: one scale per output channel; per_group: per groupSize input features"
                + " (bits=4 only)"),
        new ParamDoc(
            "groupSize",
            "input features per group for per_group: 32, 64 or 128; must divide every selected"
                + " layer's input features"),
        new ParamDoc(
            "symmetric",
            "true: symmetric grid, no stored zero point; false: a zero point per group"),
        new ParamDoc(
            "embeddings",
            "also quantize embedding tables (Gather of a constant [rows, dim] table) to int8 per"
                + " row; not subject to targets/ignore"),
        new ParamDoc(
            "clip",
            "none: each group's full min-max range; mse: per row and group, shrink the range by"
                + " p = 1 - i/100 (i < 80) and keep the one minimising sum |w' - w|^2.4 (the GPTQ"
                + " reference's mse option)"),
        new ParamDoc(
            "accuracyLevel",
            "MatMulNBits accuracy_level: 0 unset, float activations; 4 int8 compute,"
                + " activations quantized to int8 per block by ONNX Runtime and our kernels"));
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
