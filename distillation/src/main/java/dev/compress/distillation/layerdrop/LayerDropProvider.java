package dev.compress.distillation.layerdrop;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link LayerDropPass} as {@code layer-drop}. */
public final class LayerDropProvider implements PassProvider<LayerDropConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "layer-drop";

  /** Used by {@link java.util.ServiceLoader}. */
  public LayerDropProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Student builder: keep some transformer blocks (e.g. [0, 2, 4]) and cut the others out"
        + " of the residual stream; the file, the parameters and the latency shrink";
  }

  @Override
  public Class<LayerDropConfig> configType() {
    return LayerDropConfig.class;
  }

  @Override
  public LayerDropConfig defaults() {
    return LayerDropConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return false;
  }

  @Override
  public Pass<LayerDropConfig> create(LayerDropConfig config) {
    return new LayerDropPass(config);
  }
}
