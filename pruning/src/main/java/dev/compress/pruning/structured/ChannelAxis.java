package dev.compress.pruning.structured;

import java.util.Arrays;

/**
 * Where the prunable units of a dependency group sit in one value: the axis (counted from the end,
 * {@code -1} = last), how many consecutive elements of that axis one unit covers, and the sizes of
 * the axes after it where they are known ({@code -1} where not).
 *
 * @param axis the unit axis, negative (from the end)
 * @param unitSize elements of {@link #axis} per unit (a head's width before the heads are split
 *     off, 1 after)
 * @param after sizes of the axes after {@link #axis}, {@code -1} when unknown
 * @param rank the value's rank when known, else 0
 */
record ChannelAxis(int axis, long unitSize, long[] after, int rank) {

  ChannelAxis {
    after = after.clone();
  }

  /** The last axis of a value of unknown rank. */
  static ChannelAxis last(long unitSize) {
    return new ChannelAxis(-1, unitSize, new long[0], 0);
  }

  /** The product of {@link #after}, or -1 when an entry is unknown. */
  long afterProduct() {
    long p = 1;
    for (long d : after) {
      if (d < 0) {
        return -1;
      }
      p *= d;
    }
    return p;
  }

  /** Same axis and unit size: two traces that meet on a value agree about it. */
  boolean compatible(ChannelAxis o) {
    return axis == o.axis && unitSize == o.unitSize;
  }

  @Override
  public long[] after() {
    return after.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChannelAxis c
        && axis == c.axis
        && unitSize == c.unitSize
        && rank == c.rank
        && Arrays.equals(after, c.after);
  }

  @Override
  public int hashCode() {
    return 31 * axis + Long.hashCode(unitSize);
  }

  @Override
  public String toString() {
    return "axis " + axis + " x" + unitSize + " after " + Arrays.toString(after);
  }
}
