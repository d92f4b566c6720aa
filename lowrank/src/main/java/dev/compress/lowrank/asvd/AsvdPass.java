package dev.compress.lowrank.asvd;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.lowrank.Factorizer;

/**
 * ASVD (Yuan et al. 2023, "ASVD: Activation-aware Singular Value Decomposition for Compressing
 * Large Language Models"): the input features that carry large activations are protected by scaling
 * the weight's columns before the SVD and unscaling the factor after:
 *
 * <ol>
 *   <li>one calibration pass records {@code mean |x_j|} of every selected layer's input;
 *   <li>{@code s_j = mean|x_j|^alpha + 1e-6}; SVD of {@code W diag(s)};
 *   <li>{@code Wu = U_k sqrt(Sigma_k)}, {@code Wv = sqrt(Sigma_k) V_k^T diag(s)^{-1}};
 *   <li>alpha given, or searched per layer over {@code alphaGrid} on the calibration output error
 *       at the probed rank ({@link AsvdDecomposer}; reported as {@code LAYER/alpha}).
 * </ol>
 */
public final class AsvdPass implements Pass<AsvdConfig> {
  private final AsvdConfig config;

  /** A pass for a validated config. */
  public AsvdPass(AsvdConfig config) {
    this.config = config;
  }

  @Override
  public AsvdConfig config() {
    return config;
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    return Factorizer.run(
        AsvdProvider.TYPE,
        config,
        new AsvdDecomposer(config.alpha(), config.alphaGrid()),
        model,
        context);
  }
}
