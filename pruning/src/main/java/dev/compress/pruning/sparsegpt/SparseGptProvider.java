package dev.compress.pruning.sparsegpt;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

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
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<SparseGptConfig> create(SparseGptConfig config) {
    return new SparseGptPass(config);
  }
}
