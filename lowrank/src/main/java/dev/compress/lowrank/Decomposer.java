package dev.compress.lowrank;

import dev.compress.api.CompressionException;
import dev.compress.lowrank.rank.RankRule;

/** A factorization method: what it needs from calibration, and how it decomposes one layer. */
public interface Decomposer {
  /** Whether {@link LayerInput#meanAbs} is needed. */
  boolean needsMeanAbs();

  /** Whether {@link LayerInput#gram} is needed. */
  boolean needsGram();

  /**
   * Decomposes one layer.
   *
   * @param in the layer with what calibration gave
   * @param rule the rank rule (a method may use it to probe, e.g. ASVD's alpha search)
   * @param triplets how many singular triplets to compute ({@code min(m, n)} for the full spectrum)
   * @param metrics receives per-layer metrics keyed {@code layer/name}
   */
  Decomposition decompose(
      LayerInput in, RankRule rule, int triplets, java.util.Map<String, Double> metrics)
      throws CompressionException;
}
