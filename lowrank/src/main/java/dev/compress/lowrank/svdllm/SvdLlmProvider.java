package dev.compress.lowrank.svdllm;

import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import dev.compress.lowrank.rank.Allocation;
import dev.compress.lowrank.rank.RankRule;
import java.util.List;

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
    return new SvdLlmConfig(LayerSelection.ALL, Allocation.UNIFORM, 0.2, 0.95, 64);
  }

  @Override
  public List<ParamDoc> parameters() {
    return RankRule.docs();
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
