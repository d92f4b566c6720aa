package dev.compress.lowrank.svd;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.lowrank.Factorizer;

/**
 * Truncated SVD of each selected weight (Eckart and Young 1936; for networks, Denton et al. 2014,
 * "Exploiting Linear Structure Within Convolutional Networks for Efficient Evaluation"): {@code W =
 * U Sigma V^T ~ (U_k sqrt(Sigma_k)) (sqrt(Sigma_k) V_k^T)}, the best rank-{@code k} approximation
 * in weight space, written as two MatMuls ({@link dev.compress.lowrank.FactorWriter}) only when
 * {@code k < m n / (m + n)}. Data-free: it ignores the activations, which is why its output error
 * is far above {@link dev.compress.lowrank.asvd.AsvdPass ASVD}'s and {@link
 * dev.compress.lowrank.svdllm.SvdLlmPass SVD-LLM}'s at the same rank.
 */
public final class SvdPass implements Pass<SvdConfig> {
  private final SvdConfig config;

  /** A pass for a validated config. */
  public SvdPass(SvdConfig config) {
    this.config = config;
  }

  @Override
  public SvdConfig config() {
    return config;
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    return Factorizer.run(SvdProvider.TYPE, config, new SvdDecomposer(), model, context);
  }
}
