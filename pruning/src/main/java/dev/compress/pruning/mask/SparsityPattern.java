package dev.compress.pruning.mask;

import dev.compress.api.layers.LinearLayer;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which weights may be pruned together: {@link #UNSTRUCTURED} (any weight, a fraction set by the
 * pass's {@code sparsity}), or N:M, {@code n} weights zeroed in every group of {@code m}
 * consecutive input features of an output row (NVIDIA's 2:4 semi-structured sparsity, Mishra et al.
 * 2021, arXiv:2104.08378; the groups run along the reduction dimension, whatever the storage
 * layout: a MatMul weight stored {@code [in, out]} is grouped down its columns).
 *
 * @param n weights zeroed per group (0 when unstructured)
 * @param m group width (0 when unstructured)
 */
public record SparsityPattern(int n, int m) {
  /** No grouping: the pass's sparsity applies to the layer (or row, or block) as a whole. */
  public static final SparsityPattern UNSTRUCTURED = new SparsityPattern(0, 0);

  private static final Pattern NM = Pattern.compile("\\s*(\\d{1,6})\\s*:\\s*(\\d{1,6})\\s*");

  /** The pattern's config spelling: {@code unstructured} or {@code N:M}. */
  @Override
  public String toString() {
    return unstructured() ? "unstructured" : n + ":" + m;
  }

  /** True for {@link #UNSTRUCTURED}. */
  public boolean unstructured() {
    return m == 0;
  }

  /** The sparsity an N:M pattern gives, {@code n / m}. */
  public double sparsity() {
    return unstructured() ? 0 : (double) n / m;
  }

  /**
   * Parses the {@code pattern} key: null, blank or {@code unstructured}, or {@code N:M} with {@code
   * 0 < N < M}. Adds one line naming the key to {@code problems} when the value is not one of
   * those.
   *
   * @return the pattern, {@link #UNSTRUCTURED} when the value was refused
   */
  public static SparsityPattern parse(String key, String value, List<String> problems) {
    if (value == null || value.isBlank() || value.trim().equalsIgnoreCase("unstructured")) {
      return UNSTRUCTURED;
    }
    Matcher mt = NM.matcher(value);
    if (!mt.matches()) {
      problems.add(key + " must be unstructured or N:M (e.g. 2:4), found " + value);
      return UNSTRUCTURED;
    }
    int n = Integer.parseInt(mt.group(1));
    int m = Integer.parseInt(mt.group(2));
    if (n <= 0 || n >= m) {
      problems.add(
          key + " N:M must have 0 < N < M (N weights zeroed in every M), found " + value.trim());
      return UNSTRUCTURED;
    }
    return new SparsityPattern(n, m);
  }

  /**
   * The problem with applying this pattern to {@code layer}: {@code m} does not divide its input
   * features.
   *
   * @param key the config key, for the message
   */
  public Optional<String> divisibilityProblem(String key, LinearLayer layer) {
    if (unstructured() || layer.inFeatures() % m == 0) {
      return Optional.empty();
    }
    return Optional.of(
        "layer '"
            + layer.name()
            + "': "
            + key
            + " "
            + this
            + " needs its input features to be a multiple of "
            + m
            + ", found "
            + layer.inFeatures());
  }
}
