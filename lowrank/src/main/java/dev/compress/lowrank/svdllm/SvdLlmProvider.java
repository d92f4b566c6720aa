package dev.compress.lowrank.svdllm;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link SvdLlmPass} as {@code svd-llm}. */
public final class SvdLlmProvider implements PassProvider<SvdLlmConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "svd-llm";

  /** Used by {@link java.util.ServiceLoader}. */
  public SvdLlmProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "SVD-LLM: truncation-aware whitened SVD (S = chol(X^T X)) of each linear weight into"
        + " two MatMuls; the dropped singular values are the output error";
  }

  @Override
  public Class<SvdLlmConfig> configType() {
    return SvdLlmConfig.class;
  }

  @Override
  public SvdLlmConfig defaults() {
    return SvdLlmConfig.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<SvdLlmConfig> create(SvdLlmConfig config) {
    return new SvdLlmPass(config);
  }
}
