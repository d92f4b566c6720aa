package dev.compress.quantization.smoothquant;

import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import java.util.List;
import java.util.Map;

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
    return new SmoothQuantConfig(LayerSelection.ALL, 0.5, Map.of(), true);
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc("alpha", "migration strength in [0, 1]"),
        new ParamDoc(
            "mappings",
            "manual norm -> layers override: {NORM_NODE: [LAYER, ...]}; empty finds every"
                + " normalization feeding linear layers"),
        new ParamDoc(
            "compensate",
            "when a norm output also feeds other nodes (a post-LN residual), restore it there with"
                + " Mul(., s); false skips such norms"));
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
