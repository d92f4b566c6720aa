package dev.compress.distillation.layerdrop;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import java.util.List;
import java.util.Optional;

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
    return new LayerDropConfig(Optional.empty(), Optional.empty(), null);
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc(
            "keep",
            "the blocks to keep, by position (0 = first), e.g. [0, 2, 4]; at least one, no"
                + " repeats; without keep and keepEvenly every other block is kept"),
        new ParamDoc(
            "keepEvenly",
            "instead of keep: this many blocks spread evenly (block floor(i*n/k) of n)"),
        new ParamDoc(
            "blockPattern",
            "regex over node names whose first capture group numbers the transformer block"));
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
