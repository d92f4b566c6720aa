package dev.compress.lowrank.svdllm;

import dev.compress.api.CompressionException;
import dev.compress.linalg.Linalg;
import dev.compress.linalg.Matrix;
import dev.compress.lowrank.Decomposer;
import dev.compress.lowrank.Decomposition;
import dev.compress.lowrank.LayerInput;
import dev.compress.lowrank.Spectra;
import dev.compress.lowrank.rank.RankRule;
import java.util.Map;

/**
 * SVD-LLM's truncation-aware whitening: {@code S = chol(X^T X)}, SVD of {@code W S}, {@code Wu =
 * U_k sqrt(Sigma_k)}, {@code Wv = sqrt(Sigma_k) V_k^T S^{-1}} (a triangular solve, never an
 * explicit inverse). Because {@code (W - Wu Wv) S = sum_{i>k} sigma_i u_i v_i^T} and {@code ||E
 * X^T||_F^2 = tr(E X^T X E^T) = ||E S||_F^2}, the output error of the truncation is {@code
 * sqrt(sum_{i>k} sigma_i^2)}: dropping one singular value costs exactly that value.
 */
public final class SvdLlmDecomposer implements Decomposer {
  @Override
  public boolean needsMeanAbs() {
    return false;
  }

  @Override
  public boolean needsGram() {
    return true;
  }

  @Override
  public Decomposition decompose(
      LayerInput in, RankRule rule, int triplets, Map<String, Double> metrics)
      throws CompressionException {
    Whitening wh = Whitening.of(in.gram(), in.layer().name());
    if (wh.ridge() != 0) {
      metrics.put(in.layer().name() + "/whitening_ridge", wh.ridge());
      metrics.merge("whitening_ridged_layers", 1.0, Double::sum);
    }
    return decompose(in.w(), wh.s(), triplets, in.seed());
  }

  /**
   * The decomposition of {@code w (m, n)} whitened by the lower factor {@code s (n, n)}, for direct
   * use (tests, tools).
   */
  public static Decomposition decompose(Matrix w, Matrix s, int triplets, long seed) {
    Matrix ws = Linalg.multiply(w, s); // (m, n)
    return new Decomposition(
        Spectra.svd(ws, triplets, seed),
        Spectra.frobeniusSquared(ws),
        // Wv = R S^{-1}  <=>  S^T Wv^T = R^T
        r -> Linalg.solveTriangular(s, r.transpose(), true, true).transpose());
  }
}
