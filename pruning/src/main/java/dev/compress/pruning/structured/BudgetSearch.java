package dev.compress.pruning.structured;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Retraining-free global budget search (Kwon et al. 2022, "A Fast Post-Training Pruning Framework
 * for Transformers", Algorithm 1 with our scores): heads and neurons are ranked separately by
 * importance over all groups; for every count {@code h} of heads kept, the most important neurons
 * that still fit the budget are kept, and the {@code h} with the largest total importance wins.
 * Unlike Kwon et al. every group keeps at least its most important unit (removing every head or
 * neuron of a layer is refused), and groups with an explicit plan are fixed and only consume their
 * cost.
 */
final class BudgetSearch {
  private BudgetSearch() {}

  /** One group's input to the search. */
  record Entry(DependencyGroup group, double[] scores, long costPerUnit, int fixedKeep) {}

  /** A unit candidate. */
  private record Unit(int entry, int index, double score, long cost) {}

  /**
   * The kept unit indices per group (ascending), under {@code budget} (in the same unit as the
   * costs).
   *
   * @throws IllegalArgumentException when the fixed plans and one unit per group already exceed the
   *     budget (the message says by how much)
   */
  static Map<DependencyGroup, int[]> search(List<Entry> entries, double budget) {
    long spent = 0;
    List<List<Unit>> kinds = List.of(new ArrayList<>(), new ArrayList<>());
    Map<DependencyGroup, List<Integer>> keep = new LinkedHashMap<>();
    for (int e = 0; e < entries.size(); e++) {
      Entry en = entries.get(e);
      Integer[] order = ranked(en.scores);
      List<Integer> k = new ArrayList<>();
      int forced = en.fixedKeep > 0 ? en.fixedKeep : 1;
      for (int r = 0; r < forced; r++) {
        k.add(order[r]);
      }
      spent += forced * en.costPerUnit;
      keep.put(en.group, k);
      if (en.fixedKeep > 0) {
        continue;
      }
      List<Unit> into = kinds.get(en.group.kind() == DependencyGroup.Kind.HEADS ? 0 : 1);
      for (int r = 1; r < order.length; r++) {
        into.add(new Unit(e, order[r], en.scores[order[r]], en.costPerUnit));
      }
    }
    if (spent > budget) {
      throw new IllegalArgumentException(
          String.format(
              java.util.Locale.ROOT,
              "the fixed plans and one unit per group already keep %d, over the budget of %.0f",
              spent,
              budget));
    }
    Comparator<Unit> byScore =
        Comparator.comparingDouble((Unit u) -> -u.score)
            .thenComparingInt(u -> u.entry)
            .thenComparingInt(u -> u.index);
    kinds.forEach(l -> l.sort(byScore));
    List<Unit> heads = kinds.get(0);
    List<Unit> neurons = kinds.get(1);
    long[] nCost = new long[neurons.size() + 1];
    double[] nScore = new double[neurons.size() + 1];
    for (int i = 0; i < neurons.size(); i++) {
      nCost[i + 1] = nCost[i] + neurons.get(i).cost;
      nScore[i + 1] = nScore[i] + neurons.get(i).score;
    }
    double left = budget - spent;
    int bestH = 0;
    int bestN = 0;
    double best = Double.NEGATIVE_INFINITY;
    long hCost = 0;
    double hScore = 0;
    for (int h = 0; h <= heads.size(); h++) {
      if (h > 0) {
        hCost += heads.get(h - 1).cost;
        hScore += heads.get(h - 1).score;
      }
      if (hCost > left) {
        break;
      }
      int n = upperBound(nCost, left - hCost);
      double total = hScore + nScore[n];
      if (total > best) {
        best = total;
        bestH = h;
        bestN = n;
      }
    }
    for (Unit u : heads.subList(0, bestH)) {
      keep.get(entries.get(u.entry).group).add(u.index);
    }
    for (Unit u : neurons.subList(0, bestN)) {
      keep.get(entries.get(u.entry).group).add(u.index);
    }
    Map<DependencyGroup, int[]> out = new LinkedHashMap<>();
    keep.forEach(
        (g, l) -> {
          int[] a = l.stream().mapToInt(Integer::intValue).toArray();
          Arrays.sort(a);
          out.put(g, a);
        });
    return out;
  }

  /** Unit indices by descending score (ties: lower index first). */
  static Integer[] ranked(double[] scores) {
    Integer[] order = new Integer[scores.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -scores[i]).thenComparing(i -> i));
    return order;
  }

  /** The largest n with prefix[n] <= limit. */
  private static int upperBound(long[] prefix, double limit) {
    int lo = 0;
    int hi = prefix.length - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (prefix[mid] <= limit) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }
}
