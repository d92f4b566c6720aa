package dev.compress.pruning.sparsegpt;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import java.util.List;

/** Registers {@link SparseGptPass} as {@code sparsegpt}. */
public final class SparseGptProvider implements PassProvider<SparseGptConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "sparsegpt";

  /** Used by {@link java.util.ServiceLoader}. */
  public SparseGptProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "SparseGPT: one-shot unstructured or N:M pruning with GPTQ's second-order error"
        + " compensation, blocks calibrated in sequence (weights stay dense; ORT is not faster)";
  }

  @Override
  public Class<SparseGptConfig> configType() {
    return SparseGptConfig.class;
  }

  @Override
  public SparseGptConfig defaults() {
    return SparseGptConfig.defaults();
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc("sparsity", "fraction of each layer's weights to zero, in [0, 1)"),
        new ParamDoc(
            "pattern",
            "unstructured, or N:M (e.g. 2:4): N of every M consecutive input weights of a row"
                + " zeroed, chosen inside the sweep (sparsity not used)"),
        new ParamDoc(
            "blockSize", "columns per lazy block and per unstructured mask (128; a multiple of M)"),
        new ParamDoc("dampPercent", "damping lambda = dampPercent * mean(diag H), in (0, 1]"),
        new ParamDoc(
            "blockPattern",
            "regex over layer names whose first group numbers the transformer block"));
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<SparseGptConfig> create(SparseGptConfig config) {
    return new SparseGptPass(config);
  }
}
