package dev.compress.lowrank.rank;

import dev.compress.api.ConfigException;
import java.util.ArrayList;
import java.util.List;

/**
 * Chooses each layer's rank under a {@link RankRule}: a rank {@code k} below the layer's break-even
 * rank {@code m n / (m + n)} (the factors then hold fewer parameters), or "dense" (0) when the
 * layer is better left alone.
 *
 * <p>{@link Allocation#GLOBAL}: minimizes {@code sum_l relativeLoss_l(k_l)} subject to {@code sum_l
 * params_l(k_l) <= (1 - parametersRemoved) sum_l m_l n_l}, with {@code params(k) = k (m + n)} for a
 * factored layer and {@code m n} for a dense one. Solved by a Lagrange multiplier: for each {@code
 * lambda} every layer takes its own best {@code k} (exhaustively, so the dense option with its jump
 * in parameters is handled), {@code lambda} is bisected to the smallest value meeting the budget,
 * and what is left of the budget is spent greedily on the largest remaining {@code sigma^2 / total}
 * per {@code m + n} parameters. This follows SVD-LLM v2 (Wang et al. 2025, "SVD-LLM V2: Optimizing
 * Singular Value Truncation for Large Language Model Compression"), which allocates per-matrix
 * ratios from each matrix's theoretical truncation loss instead of one uniform ratio.
 */
public final class RankAllocator {
  private RankAllocator() {}

  /**
   * One layer's outcome.
   *
   * @param rank the rank to write, or 0 to leave the layer dense
   * @param reason why it is left dense (empty when factored)
   */
  public record Decision(int rank, String reason) {}

  /**
   * Ranks for every layer, in order.
   *
   * @throws ConfigException listing every layer the rule cannot apply to (rank above {@code min(m,
   *     n)}, a rank that would not reduce parameters with its break-even rank, a ratio that leaves
   *     rank 0)
   */
  public static List<Decision> allocate(RankRule rule, List<LayerSpectrum> layers)
      throws ConfigException {
    List<String> problems = new ArrayList<>();
    List<Decision> out = new ArrayList<>();
    for (LayerSpectrum l : layers) {
      int useful = RankRule.maxUsefulRank(l.m(), l.n());
      String shape = "layer '" + l.layer() + "' (" + l.m() + "x" + l.n() + ")";
      String be = String.format("%.1f", RankRule.breakEven(l.m(), l.n()));
      switch (rule.allocation()) {
        case FIXED -> {
          int k = rule.rank();
          if (k > Math.min(l.m(), l.n())) {
            problems.add(
                "rank must be in [1, min(m, n)] = [1, "
                    + Math.min(l.m(), l.n())
                    + "] for "
                    + shape
                    + ", found "
                    + k);
          } else if (k > useful) {
            problems.add(
                "rank "
                    + k
                    + " would not reduce the parameters of "
                    + shape
                    + ": the break-even rank is m*n/(m+n) = "
                    + be
                    + ", use rank <= "
                    + useful);
          }
          out.add(new Decision(k, ""));
        }
        case UNIFORM -> {
          int k = RankRule.uniformRank(l.m(), l.n(), rule.parametersRemoved());
          if (k < 1) {
            problems.add(
                "parametersRemoved "
                    + rule.parametersRemoved()
                    + " leaves rank 0 for "
                    + shape
                    + " (floor(m*n*keep/(m+n)) with keep = 1 - parametersRemoved)");
          }
          out.add(new Decision(k, ""));
        }
        case ENERGY -> {
          int k = energyRank(l, rule.energy());
          out.add(
              k <= useful
                  ? new Decision(k, "")
                  : new Decision(
                      0,
                      "energy "
                          + rule.energy()
                          + " needs rank "
                          + k
                          + ", not below the break-even rank "
                          + be
                          + ": factoring would not remove parameters"));
        }
        case GLOBAL -> out.add(null);
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    if (rule.allocation() == Allocation.GLOBAL) {
      return global(layers, rule.parametersRemoved());
    }
    return out;
  }

  /** The smallest {@code k} whose top singular values hold {@code energy} of the total. */
  public static int energyRank(LayerSpectrum l, double energy) {
    double kept = 0;
    int r = (int) Math.min(l.m(), l.n());
    for (int k = 1; k <= r; k++) {
      kept += l.squared(k - 1);
      if (kept >= energy * l.total()) {
        return k;
      }
    }
    return r;
  }

  private static List<Decision> global(List<LayerSpectrum> layers, double removed)
      throws ConfigException {
    double dense = 0;
    for (LayerSpectrum l : layers) {
      dense += l.dense();
    }
    double budget = (1 - removed) * dense;
    // params are normalized by the total so lambda lives on the scale of the relative losses
    double lo = 0;
    double hi = 1;
    while (params(layers, choose(layers, hi, dense)) > budget && hi < 1e12) {
      hi *= 2;
    }
    int[] best = choose(layers, hi, dense);
    if (params(layers, best) > budget) {
      throw new ConfigException(
          "parametersRemoved "
              + removed
              + " is out of reach: even rank 1 everywhere keeps "
              + params(layers, best)
              + " of "
              + (long) dense
              + " parameters");
    }
    for (int it = 0; it < 200; it++) {
      double mid = 0.5 * (lo + hi);
      int[] k = choose(layers, mid, dense);
      if (params(layers, k) <= budget) {
        hi = mid;
        best = k;
      } else {
        lo = mid;
      }
    }
    topUp(layers, best, budget);
    List<Decision> out = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      out.add(
          best[i] > 0
              ? new Decision(best[i], "")
              : new Decision(0, "global allocation keeps it dense (its truncation loss is high)"));
    }
    return out;
  }

  private static double params(List<LayerSpectrum> layers, int[] k) {
    double p = 0;
    for (int i = 0; i < k.length; i++) {
      LayerSpectrum l = layers.get(i);
      p += k[i] == 0 ? l.dense() : l.factored(k[i]);
    }
    return p;
  }

  /** Each layer's best rank (0 = dense) for multiplier {@code lambda}. */
  private static int[] choose(List<LayerSpectrum> layers, double lambda, double dense) {
    int[] k = new int[layers.size()];
    for (int i = 0; i < k.length; i++) {
      LayerSpectrum l = layers.get(i);
      double bestCost = lambda * l.dense() / dense; // dense: no loss
      int bestK = 0;
      int useful = RankRule.maxUsefulRank(l.m(), l.n());
      double kept = 0;
      double total = l.total() > 0 ? l.total() : 1;
      for (int r = 1; r <= useful; r++) {
        kept += l.squared(r - 1);
        double cost = Math.max(0, l.total() - kept) / total + lambda * l.factored(r) / dense;
        if (cost < bestCost) {
          bestCost = cost;
          bestK = r;
        }
      }
      k[i] = bestK;
    }
    return k;
  }

  /** Spends what is left of the budget one rank at a time on the largest gain per parameter. */
  private static void topUp(List<LayerSpectrum> layers, int[] k, double budget) {
    double used = params(layers, k);
    while (true) {
      int pick = -1;
      double gain = -1;
      for (int i = 0; i < k.length; i++) {
        LayerSpectrum l = layers.get(i);
        if (k[i] == 0 || k[i] >= RankRule.maxUsefulRank(l.m(), l.n())) {
          continue;
        }
        if (used + (l.m() + l.n()) > budget) {
          continue;
        }
        double g = l.squared(k[i]) / (l.total() > 0 ? l.total() : 1) / (l.m() + l.n());
        if (g > gain) {
          gain = g;
          pick = i;
        }
      }
      if (pick < 0) {
        return;
      }
      k[pick]++;
      used += layers.get(pick).m() + layers.get(pick).n();
    }
  }
}
