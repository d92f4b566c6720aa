package dev.compress.pruning.structured;

import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.Node;
import dev.compress.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How units cross a {@code Reshape}: the target shape is read as entries (a constant, or a {@code
 * Concat} of constants and computed one-element pieces, as exporters write {@code [b, s, heads,
 * head_dim]}); the trailing entries whose product is the elements from the unit axis on give the
 * new unit axis (the first of them) and its unit size. The entry at the new axis holds {@code units
 * * unitSize} and is recorded for editing; a {@code -1} there needs no edit. When a split makes a
 * unit smaller than one element of the new axis (channels split into heads), the trace restarts
 * with units of a head's width.
 */
final class ReshapeRule {
  private ReshapeRule() {}

  /** One entry of a target shape: a constant (at {@code index} of {@code value}) or computed. */
  private record Entry(long value, boolean computed, Node reader, String constant, int index) {}

  static void apply(ChannelTrace trace, GraphIndex ix, Node n, ChannelAxis a) throws TraceRefusal {
    List<Entry> t = entries(ix, n);
    if (t == null) {
      throw trace.unfollowableAt(n, "its target shape is computed (not a constant or Concat)");
    }
    long units = trace.units;
    long block = a.afterProduct() < 0 ? -1 : a.unitSize() * a.afterProduct();
    int size = t.size();
    if (block < 0) {
      Entry e = t.get(size - 1);
      if (e.computed || e.value <= 0 || e.value % units != 0) {
        throw trace.unfollowableAt(
            n,
            "the sizes after the unit axis are unknown and the last target entry is not a multiple of "
                + units);
      }
      long us = e.value / units;
      trace.reshaped(
          n,
          new ChannelTrace.ShapeEdit(e.reader, e.constant, e.index, us),
          new ChannelAxis(-1, us, new long[0], size));
      return;
    }
    long total = units * block;
    long prod = 1;
    for (int k = size - 1; k >= 0; k--) {
      Entry e = t.get(k);
      if (e.computed || e.value == 0) {
        throw trace.unfollowableAt(n, "target entry " + k + " over the units is computed or 0");
      }
      boolean infer = e.value == -1;
      if (infer || prod * e.value == total) {
        if (block % prod != 0) {
          throw new TraceRefusal(TraceRefusal.Kind.REGROUP, "regroup", prod / gcd(block, prod));
        }
        long us = block / prod;
        long[] after = new long[size - k - 1];
        for (int j = k + 1; j < size; j++) {
          after[j - k - 1] = t.get(j).value;
        }
        ChannelTrace.ShapeEdit edit =
            infer ? null : new ChannelTrace.ShapeEdit(e.reader, e.constant, e.index, us);
        trace.reshaped(n, edit, new ChannelAxis(k - size, us, after, size));
        return;
      }
      prod *= e.value;
      if (prod > total) {
        break;
      }
    }
    throw trace.unfollowableAt(
        n, "no trailing target entries hold the " + total + " unit elements");
  }

  private static long gcd(long a, long b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  private static List<Entry> entries(GraphIndex ix, Node reshape) {
    String shape = reshape.input(1);
    Optional<Tensor> c = ix.constant(shape);
    List<Entry> out = new ArrayList<>();
    if (c.isPresent()) {
      add(out, reshape, shape, c.get());
      return out;
    }
    Optional<Node> cat = ix.producer(shape, "Concat");
    if (cat.isEmpty()) {
      return null;
    }
    for (String piece : cat.get().inputs()) {
      Optional<Tensor> pc = ix.constant(piece);
      if (pc.isPresent()) {
        add(out, cat.get(), piece, pc.get());
      } else if (ix.producer(piece, "Unsqueeze").isPresent()) {
        out.add(new Entry(-2, true, null, null, -1)); // a computed scalar made 1-D
      } else {
        return null;
      }
    }
    return out;
  }

  private static void add(List<Entry> out, Node reader, String value, Tensor t) {
    long[] v = t.toLongArray();
    for (int i = 0; i < v.length; i++) {
      out.add(new Entry(v[i], false, reader, value, i));
    }
  }
}
