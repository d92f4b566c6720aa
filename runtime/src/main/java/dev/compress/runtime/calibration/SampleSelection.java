package dev.compress.runtime.calibration;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Which samples of a source are used, in which order: the part of a calibration or evaluation set's
 * identity that is not in the file itself.
 *
 * <p>The shuffle is a Fisher-Yates shuffle driven by {@link java.util.Random} seeded with the
 * pipeline's seed: for {@code i} from {@code size - 1} down to 1, swap element {@code i} with
 * element {@code random.nextInt(i + 1)}. {@code java.util.Random} is used rather than {@link
 * java.util.SplittableRandom} because its algorithm is part of its specification (every Java
 * implementation must produce the same sequence for a seed), so a seed recorded in a manifest
 * selects the same samples on any JDK.
 */
public final class SampleSelection {
  private SampleSelection() {}

  /**
   * The first {@code n} elements of {@code all}, after shuffling a copy with {@code seed} when
   * {@code shuffle} is set.
   *
   * @throws IllegalArgumentException when {@code n} is not in {@code [0, all.size()]}
   */
  public static <T> List<T> take(List<T> all, int n, boolean shuffle, long seed) {
    checkCount(all, n);
    List<T> order = new ArrayList<>(all);
    if (shuffle) {
      Random random = new Random(seed);
      for (int i = order.size() - 1; i > 0; i--) {
        Collections.swap(order, i, random.nextInt(i + 1));
      }
    }
    return List.copyOf(order.subList(0, n));
  }

  /**
   * {@code n} elements spread evenly over {@code all} in their order: element {@code floor(i * size
   * / n)} for {@code i} in {@code [0, n)}. Used for held-out sets, which need no seed: a file
   * sorted by date or topic still yields a sample of all of it.
   *
   * @throws IllegalArgumentException when {@code n} is not in {@code [0, all.size()]}
   */
  public static <T> List<T> spread(List<T> all, int n) {
    checkCount(all, n);
    List<T> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(all.get((int) ((long) i * all.size() / n)));
    }
    return List.copyOf(out);
  }

  private static void checkCount(List<?> all, int n) {
    if (n < 0 || n > all.size()) {
      throw new IllegalArgumentException("cannot take " + n + " of " + all.size() + " samples");
    }
  }
}
