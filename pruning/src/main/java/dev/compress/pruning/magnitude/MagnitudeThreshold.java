package dev.compress.pruning.magnitude;

import java.util.function.IntFunction;

/**
 * Exact selection of the {@code k} smallest weight magnitudes across one or more arrays, without
 * sorting and without holding them all at once: two counting passes over the 31-bit patterns of
 * {@code |w|} (which order like the values for non-negative floats), first by their high 15 bits,
 * then by the low 16 bits inside the bucket that holds the {@code k}-th smallest.
 *
 * <p>Ties are broken by position: among weights equal to the threshold, those that come first
 * (array order, then index) are pruned. The selection is therefore deterministic and prunes exactly
 * {@code k} weights. NaN magnitudes order above infinity, so they are never pruned before a number.
 */
final class MagnitudeThreshold {
  /**
   * The selection: every weight with {@code key(w) < key} is pruned, and the first {@code ties}
   * weights with {@code key(w) == key}.
   *
   * @param key the threshold key ({@link #key(float)} of the {@code k}-th smallest magnitude), or
   *     -1 when nothing is pruned
   * @param ties how many weights equal to the threshold are pruned
   */
  record Selection(int key, long ties) {
    /** Prunes nothing. */
    static final Selection NONE = new Selection(-1, 0);

    /** The threshold magnitude, or 0 when nothing is pruned. */
    float magnitude() {
      return key < 0 ? 0f : Float.intBitsToFloat(key);
    }
  }

  private MagnitudeThreshold() {}

  /** The ordering key of a weight's magnitude: the bits of {@code |w|} (sign cleared). */
  static int key(float w) {
    return Float.floatToRawIntBits(w) & 0x7fffffff;
  }

  /**
   * Selects the {@code k} smallest magnitudes among {@code arrays} arrays.
   *
   * @param arrays how many arrays there are
   * @param array the {@code i}-th array (called twice per array; may read it afresh)
   * @param k how many to prune, at most the total element count
   */
  static Selection select(int arrays, IntFunction<float[]> array, long k) {
    if (k <= 0) {
      return Selection.NONE;
    }
    long[] high = new long[1 << 15];
    long total = 0;
    for (int a = 0; a < arrays; a++) {
      for (float w : array.apply(a)) {
        high[key(w) >>> 16]++;
      }
    }
    for (long c : high) {
      total += c;
    }
    if (k > total) {
      throw new IllegalArgumentException("cannot prune " + k + " of " + total + " weights");
    }
    int bucket = 0;
    long below = 0;
    while (below + high[bucket] < k) {
      below += high[bucket++];
    }
    long[] low = new long[1 << 16];
    for (int a = 0; a < arrays; a++) {
      for (float w : array.apply(a)) {
        int key = key(w);
        if (key >>> 16 == bucket) {
          low[key & 0xffff]++;
        }
      }
    }
    int l = 0;
    while (below + low[l] < k) {
      below += low[l++];
    }
    return new Selection(bucket << 16 | l, k - below);
  }
}
