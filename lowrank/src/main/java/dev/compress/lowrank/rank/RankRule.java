package dev.compress.lowrank.rank;

import java.util.ArrayList;
import java.util.List;

/**
 * The rank rule shared by the factorization passes, spelled as four flat keys of their configs:
 * {@code allocation}, {@code parametersRemoved} (for {@link Allocation#UNIFORM} and {@link
 * Allocation#GLOBAL}), {@code energy} ({@link Allocation#ENERGY}) and {@code rank} ({@link
 * Allocation#FIXED}).
 *
 * @param allocation how ranks are chosen
 * @param parametersRemoved fraction of the selected layers' parameters to remove, in {@code (0, 1)}
 * @param energy fraction of the squared spectrum each layer keeps, in {@code (0, 1)}
 * @param rank the rank of every layer, at least 1
 */
public record RankRule(Allocation allocation, double parametersRemoved, double energy, int rank) {

  /** Validates; the messages name the config keys. */
  public RankRule {
    dev.compress.api.pass.InvalidConfigException.throwIfAny(
        problems(allocation, parametersRemoved, energy, rank));
  }

  /** The problems of these values, each naming its key (empty when valid). */
  public static List<String> problems(
      Allocation allocation, double parametersRemoved, double energy, int rank) {
    List<String> p = new ArrayList<>();
    if (allocation == null) {
      p.add("allocation must be uniform, global, energy or fixed, found null");
      return p;
    }
    switch (allocation) {
      case UNIFORM, GLOBAL -> {
        if (!(parametersRemoved > 0 && parametersRemoved < 1)) {
          p.add(
              "parametersRemoved must be in (0, 1) (the fraction of the selected layers'"
                  + " parameters removed, not kept), found "
                  + parametersRemoved
                  + (parametersRemoved <= 0
                      ? ": it would not reduce parameters (a layer m x n only shrinks at a rank"
                          + " below its break-even rank m*n/(m+n))"
                      : ""));
        }
      }
      case ENERGY -> {
        if (!(energy > 0 && energy < 1)) {
          p.add("energy must be in (0, 1) (the fraction of sum sigma^2 kept), found " + energy);
        }
      }
      case FIXED -> {
        if (rank < 1) {
          p.add("rank must be >= 1, found " + rank);
        }
      }
    }
    return p;
  }

  /** The help text of the {@code allocation} key. */
  public static final String ALLOCATION_HELP =
      "uniform: every layer keeps the same fraction, k = floor(m*n*keep/(m+n)); global: one"
          + " parameter budget spent where the truncation loss is largest; energy: per"
          + " layer the smallest rank keeping that fraction of sum sigma^2; fixed: one rank";

  /** The help text of the {@code parametersRemoved} key. */
  public static final String PARAMETERS_REMOVED_HELP =
      "fraction of the selected layers' parameters REMOVED (uniform, global), in (0, 1)";

  /** The help text of the {@code energy} key. */
  public static final String ENERGY_HELP =
      "fraction of sum sigma^2 each layer KEEPS (energy), in (0, 1)";

  /** The help text of the {@code rank} key. */
  public static final String RANK_HELP =
      "the rank of every layer (fixed); must stay below each layer's break-even rank m*n/(m+n)";

  /** The break-even rank {@code m n / (m + n)}: factors of rank {@code k} are smaller iff below. */
  public static double breakEven(long m, long n) {
    return (double) m * n / (m + n);
  }

  /** The largest rank whose factors hold fewer parameters than the dense {@code m x n} weight. */
  public static int maxUsefulRank(long m, long n) {
    // k (m + n) < m n
    long k = (m * n - 1) / (m + n);
    return (int) Math.min(k, Math.min(m, n));
  }

  /** The uniform rank {@code floor(m n keep / (m + n))} with {@code keep = 1 - removed}. */
  public static int uniformRank(long m, long n, double parametersRemoved) {
    return (int) Math.floor((double) m * n * (1 - parametersRemoved) / (m + n));
  }
}
