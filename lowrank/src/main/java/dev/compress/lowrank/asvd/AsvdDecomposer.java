package dev.compress.lowrank.asvd;

import dev.compress.linalg.Linalg;
import dev.compress.linalg.Matrix;
import dev.compress.lowrank.Decomposer;
import dev.compress.lowrank.Decomposition;
import dev.compress.lowrank.LayerInput;
import dev.compress.lowrank.LowRankFactors;
import dev.compress.lowrank.Spectra;
import dev.compress.lowrank.rank.RankAllocator;
import dev.compress.lowrank.rank.RankRule;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * ASVD's activation-aware scaling: {@code s_j = mean|x_j|^alpha + 1e-6} (the reference's epsilon),
 * SVD of {@code W diag(s)}, then {@code Wv = sqrt(Sigma_k) V_k^T diag(1/s)}. With no {@code alpha}
 * given, each layer takes the alpha of the grid whose factors, at the rank the rule probes (the
 * uniform or fixed rank, or the energy rank), have the smallest calibration output error {@code
 * ||(W - W') X^T||_F^2 = tr(E X^T X E^T)}.
 */
public final class AsvdDecomposer implements Decomposer {
  /** Added to every scale, as the reference does, so a dead feature keeps a finite inverse. */
  public static final double EPSILON = 1e-6;

  private final Optional<Double> alpha;
  private final List<Double> grid;

  /**
   * @param alpha the exponent for every layer, or empty to search {@code grid}
   * @param grid the exponents searched
   */
  public AsvdDecomposer(Optional<Double> alpha, List<Double> grid) {
    this.alpha = alpha;
    this.grid = List.copyOf(grid);
  }

  @Override
  public boolean needsMeanAbs() {
    return true;
  }

  @Override
  public boolean needsGram() {
    return alpha.isEmpty() && grid.size() > 1;
  }

  @Override
  public Decomposition decompose(
      LayerInput in, RankRule rule, int triplets, Map<String, Double> metrics) {
    String name = in.layer().name();
    if (!needsGram()) {
      double a = alpha.orElse(grid.get(0));
      metrics.put(name + "/alpha", a);
      return decompose(in.w(), in.meanAbs(), a, triplets, in.seed());
    }
    Decomposition best = null;
    double bestErr = Double.POSITIVE_INFINITY;
    double bestAlpha = Double.NaN;
    for (double a : grid) {
      Decomposition d = decompose(in.w(), in.meanAbs(), a, triplets, in.seed());
      int k = probeRank(d, rule, in.w().rows(), in.w().cols(), name);
      double err =
          outputError(in.w(), d.factors(Math.min(k, d.singularValues().length)), in.gram());
      if (err < bestErr) {
        bestErr = err;
        best = d;
        bestAlpha = a;
      }
    }
    metrics.put(name + "/alpha", bestAlpha);
    return best;
  }

  /** The decomposition of {@code w (m, n)} scaled by {@code meanAbs^alpha + 1e-6} per column. */
  public static Decomposition decompose(
      Matrix w, double[] meanAbs, double alpha, int triplets, long seed) {
    int n = w.cols();
    double[] s = new double[n];
    double[] inv = new double[n];
    for (int j = 0; j < n; j++) {
      s[j] = Math.pow(meanAbs[j], alpha) + EPSILON;
      inv[j] = 1 / s[j];
    }
    Matrix ws = Spectra.scaleColumns(w, s);
    return new Decomposition(
        Spectra.svd(ws, triplets, seed),
        Spectra.frobeniusSquared(ws),
        r -> Spectra.scaleColumns(r, inv));
  }

  private static int probeRank(Decomposition d, RankRule rule, int m, int n, String name) {
    return switch (rule.allocation()) {
      case FIXED -> rule.rank();
      case ENERGY -> RankAllocator.energyRank(d.spectrum(name), rule.energy());
      case UNIFORM, GLOBAL -> Math.max(1, RankRule.uniformRank(m, n, rule.parametersRemoved()));
    };
  }

  /** {@code tr(E G E^T)} with {@code E = W - Wu Wv}. */
  static double outputError(Matrix w, LowRankFactors f, Matrix gram) {
    double[] e = w.toArray();
    double[] p = f.product().toArray();
    for (int i = 0; i < e.length; i++) {
      e[i] -= p[i];
    }
    Matrix em = Matrix.wrap(w.rows(), w.cols(), e);
    double[] eg = Linalg.multiply(em, gram).toArray();
    double t = 0;
    for (int i = 0; i < e.length; i++) {
      t += eg[i] * e[i];
    }
    return t;
  }
}
