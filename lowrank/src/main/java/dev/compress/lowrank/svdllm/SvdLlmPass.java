package dev.compress.lowrank.svdllm;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.lowrank.Factorizer;

/**
 * SVD-LLM (Wang et al. 2024, "SVD-LLM: Truncation-aware Singular Value Decomposition for Large
 * Language Model Compression"), the whitening step of its v1 without the LoRA update:
 *
 * <ol>
 *   <li>one calibration pass records {@code X^T X} of every selected layer's input (real tokens);
 *   <li>{@code S = chol(X^T X)}, shifted by {@code -lambda_min + 1e-6} when not positive definite
 *       ({@link Whitening}; the shift is reported as {@code LAYER/whitening_ridge});
 *   <li>SVD of {@code W S}; {@code Wu = U_k sqrt(Sigma_k)}, {@code Wv = sqrt(Sigma_k) V_k^T
 *       S^{-1}}, so truncating {@code sigma_i} costs exactly {@code sigma_i} in {@code ||(W -
 *       W')X||_F} ({@link SvdLlmDecomposer});
 *   <li>ranks by the rule (uniform keep ratio {@code k = floor(m n keep / (m + n))} as v1, or the
 *       global budget from each layer's truncation loss as v2), written as two MatMuls.
 * </ol>
 */
public final class SvdLlmPass implements Pass<SvdLlmConfig> {
  private final SvdLlmConfig config;

  /** A pass for a validated config. */
  public SvdLlmPass(SvdLlmConfig config) {
    this.config = config;
  }

  @Override
  public SvdLlmConfig config() {
    return config;
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    return Factorizer.run(SvdLlmProvider.TYPE, config, new SvdLlmDecomposer(), model, context);
  }
}
