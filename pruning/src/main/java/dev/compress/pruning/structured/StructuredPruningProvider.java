package dev.compress.pruning.structured;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import java.util.List;

/** Registers {@link StructuredPruningPass} as {@code structured-pruning}. */
public final class StructuredPruningProvider implements PassProvider<StructuredPruningConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "structured-pruning";

  /** Used by {@link java.util.ServiceLoader}. */
  public StructuredPruningProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Structured pruning: remove whole attention heads and FFN neurons through dependency"
        + " groups under a FLOPs or parameter budget, then least-squares rescaling (the file"
        + " shrinks and runs faster)";
  }

  @Override
  public Class<StructuredPruningConfig> configType() {
    return StructuredPruningConfig.class;
  }

  @Override
  public StructuredPruningConfig defaults() {
    return StructuredPruningConfig.defaults();
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc("units", "which units to remove: [heads, neurons] or one of them"),
        new ParamDoc("budget", "flops (linear multiply-accumulates per token) or params"),
        new ParamDoc("kept", "fraction of the groups' linear flops (or params) kept, in (0, 1]"),
        new ParamDoc(
            "importance",
            "weight-norm (data-free), activation (Wanda-style mean(x^2)*||W_j||^2) or fluctuation"
                + " (FLAP: var(x)*||W_j||^2)"),
        new ParamDoc(
            "rescale",
            "least-squares: per group, scales of the kept units that match the unpruned output"
                + " on calibration data (Kwon et al.); none"),
        new ParamDoc(
            "biasCompensation",
            "add the removed units' mean output to the next layer's bias (FLAP)"),
        new ParamDoc("damping", "ridge of the least-squares fit, relative to its mean diagonal"),
        new ParamDoc(
            "removed",
            "explicit plans: {layer name or re:REGEX of a group: fraction of its units removed,"
                + " in [0, 1)}; these groups leave the global search"));
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<StructuredPruningConfig> create(StructuredPruningConfig config) {
    return new StructuredPruningPass(config);
  }
}
