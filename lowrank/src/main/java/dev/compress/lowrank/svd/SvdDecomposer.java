package dev.compress.lowrank.svd;

import dev.compress.lowrank.Decomposer;
import dev.compress.lowrank.Decomposition;
import dev.compress.lowrank.LayerInput;
import dev.compress.lowrank.Spectra;
import dev.compress.lowrank.rank.RankRule;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Plain truncated SVD of the weight itself: {@code M = W}, no calibration. */
public final class SvdDecomposer implements Decomposer {
  @Override
  public boolean needsMeanAbs() {
    return false;
  }

  @Override
  public boolean needsGram() {
    return false;
  }

  @Override
  public Decomposition decompose(
      LayerInput in, RankRule rule, int triplets, Map<String, Double> metrics) {
    return new Decomposition(
        Spectra.svd(in.w(), triplets, in.seed()),
        Spectra.frobeniusSquared(in.w()),
        UnaryOperator.identity());
  }
}
