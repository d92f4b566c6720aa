package dev.compress.api.canonical;

import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What {@link Canonicalizer#canonicalize} changed in a model.
 *
 * @param fusions the fused patterns, in graph order of the new nodes
 * @param nodesRemoved nodes removed in all (pattern nodes and Constant/Cast nodes made dead, minus
 *     the fused nodes added)
 * @param initializersRemoved initializers no longer used after fusion, removed
 * @param opsBefore operator histogram of the main graph before ({@code domain::op} for custom
 *     domains), sorted by operator
 * @param opsAfter operator histogram of the main graph after
 */
public record CanonicalizationReport(
    List<Fusion> fusions,
    int nodesRemoved,
    int initializersRemoved,
    SortedMap<String, Integer> opsBefore,
    SortedMap<String, Integer> opsAfter) {

  /** The kinds of fusion performed. */
  public enum Kind {
    /** A decomposed layer normalization fused into {@code LayerNormalization}. */
    LAYER_NORMALIZATION,
    /** A decomposed exact GELU fused into {@code com.microsoft::Gelu}. */
    GELU
  }

  /**
   * One fusion.
   *
   * @param kind what was fused
   * @param node the name of the new node
   * @param replacedNodes names of the pattern's nodes it replaced, in their graph order
   * @param input the fused node's main input value
   * @param output the fused node's output value (the pattern's output, unchanged)
   */
  public record Fusion(
      Kind kind, String node, List<String> replacedNodes, String input, String output) {
    /** Copies the list. */
    public Fusion {
      replacedNodes = List.copyOf(replacedNodes);
    }
  }

  /** Copies the collections. */
  public CanonicalizationReport {
    fusions = List.copyOf(fusions);
    opsBefore = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(opsBefore));
    opsAfter = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(opsAfter));
  }

  /** Number of fusions of {@code kind}. */
  public int count(Kind kind) {
    return (int) fusions.stream().filter(f -> f.kind() == kind).count();
  }

  /** Number of layer normalizations fused. */
  public int layerNorms() {
    return count(Kind.LAYER_NORMALIZATION);
  }

  /** Number of GELUs fused. */
  public int gelus() {
    return count(Kind.GELU);
  }

  /** True if the model was changed. */
  public boolean changed() {
    return !fusions.isEmpty();
  }

  /** A one-line summary, e.g. {@code fused 13 LayerNormalization, 6 Gelu; 179 nodes removed}. */
  public String summary() {
    return "fused "
        + layerNorms()
        + " LayerNormalization, "
        + gelus()
        + " Gelu; "
        + nodesRemoved
        + " nodes and "
        + initializersRemoved
        + " initializers removed";
  }

  /** Operator counts that differ between before and after, as {@code op: before -> after}. */
  public SortedMap<String, String> opChanges() {
    SortedMap<String, String> m = new TreeMap<>();
    TreeMap<String, Integer> all = new TreeMap<>(opsBefore);
    opsAfter.forEach(all::putIfAbsent);
    for (Map.Entry<String, Integer> e : all.entrySet()) {
      int b = opsBefore.getOrDefault(e.getKey(), 0);
      int a = opsAfter.getOrDefault(e.getKey(), 0);
      if (a != b) {
        m.put(e.getKey(), b + " -> " + a);
      }
    }
    return m;
  }
}
