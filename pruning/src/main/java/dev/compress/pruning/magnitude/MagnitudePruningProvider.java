package dev.compress.pruning.magnitude;

import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import java.util.List;

/** Registers {@link MagnitudePruningPass} as {@code magnitude-pruning}. */
public final class MagnitudePruningProvider implements PassProvider<MagnitudePruningConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "magnitude-pruning";

  /** Used by {@link java.util.ServiceLoader}. */
  public MagnitudePruningProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Magnitude pruning: zero the smallest |w|, per layer, under one global threshold, or N:M"
        + " (2:4) per row (weights stay dense: the file does not shrink, ORT is not faster)";
  }

  @Override
  public Class<MagnitudePruningConfig> configType() {
    return MagnitudePruningConfig.class;
  }

  @Override
  public MagnitudePruningConfig defaults() {
    return new MagnitudePruningConfig(
        LayerSelection.ALL, 0.5, MagnitudePruningConfig.Scope.PER_LAYER, "unstructured");
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc("sparsity", "fraction of weights to zero, in [0, 1)"),
        new ParamDoc(
            "scope",
            "per_layer: every layer reaches the sparsity; global: one magnitude threshold across"
                + " the selected layers"),
        new ParamDoc(
            "pattern",
            "unstructured, or N:M (e.g. 2:4, 4:8): the N smallest of every M consecutive input"
                + " weights of an output row are zeroed (sparsity is then N/M)"));
  }

  @Override
  public boolean needsCalibration() {
    return false;
  }

  @Override
  public Pass<MagnitudePruningConfig> create(MagnitudePruningConfig config) {
    return new MagnitudePruningPass(config);
  }
}
