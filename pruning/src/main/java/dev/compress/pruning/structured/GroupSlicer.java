package dev.compress.pruning.structured;

import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Physically removes units from a {@link DependencyGroup}: the sources' output columns, the
 * constants' entries along the unit axis (biases, BatchNormalization parameters), the sinks' input
 * rows (a Conv's weight axis 1; optionally scaled per kept unit), the filters of depthwise Convs
 * passed through (with their {@code group}), and the reshape entries rewritten to the kept count.
 * Each tensor is read from the graph as it is now (a layer can be a sink of one group and a source
 * of another), and replaced through {@link GraphEditor#replaceConstant}, which copies a constant
 * that nodes outside the group still read.
 */
final class GroupSlicer {
  private GroupSlicer() {}

  /**
   * @param keep the kept unit indices, ascending
   * @param scale per kept unit, the factor its sink rows are multiplied by (null: 1)
   * @param sinkBiasDelta added to the (single) sink's bias (null: nothing)
   */
  static void apply(
      GraphEditor ed, DependencyGroup g, int[] keep, double[] scale, float[] sinkBiasDelta) {
    for (LinearLayer s : g.sources()) {
      int w = weightInput(s);
      Tensor t = current(ed, s.node(), w);
      boolean inOut = s.layout() == LinearLayer.WeightLayout.IN_OUT;
      // IN_OUT [in, out]: keep columns; OUT_IN [out, in]: keep rows
      Tensor cut = slice(t, inOut ? 1 : 0, keep, g.unitSize(), null);
      replace(ed, s.node(), w, cut);
    }
    for (ChannelTrace.Through d : g.through()) {
      Node n = d.layer().node();
      replace(ed, n, 1, slice(current(ed, n, 1), 0, keep, d.unitSize(), null));
      n.put(dev.compress.api.graph.Attribute.of("group", keep.length * d.inUnitSize()));
    }
    for (ChannelTrace.ConstSlice c : g.consts()) {
      Tensor t = current(ed, c.node(), c.input());
      int axis = t.rank() + c.axis();
      replace(ed, c.node(), c.input(), slice(t, axis, keep, c.unitSize(), null));
    }
    for (ChannelTrace.Sink s : g.sinks()) {
      LinearLayer l = s.layer();
      int w = weightInput(l);
      Tensor t = current(ed, l.node(), w);
      boolean inOut = l.layout() == LinearLayer.WeightLayout.IN_OUT;
      replace(ed, l.node(), w, slice(t, inOut ? 0 : 1, keep, s.unitSize(), scale));
    }
    if (sinkBiasDelta != null) {
      LinearLayer l = g.sinks().get(0).layer();
      Node reader = biasReader(ed, l);
      int k = reader.inputs().indexOf(currentBias(ed, l));
      Tensor b = current(ed, reader, k);
      float[] v = b.toFloatArray();
      for (int i = 0; i < v.length; i++) {
        v[i] += sinkBiasDelta[i];
      }
      replace(ed, reader, k, Tensor.ofFloats(b.name(), b.shape(), v));
    }
    for (ChannelTrace.ShapeEdit e : g.shapes()) {
      int k = e.reader().inputs().indexOf(e.value());
      Tensor t = current(ed, e.reader(), k);
      long[] v = t.toLongArray();
      v[e.index()] = keep.length * e.unitSize();
      Tensor nt =
          t.dtype() == DataType.INT32
              ? Tensor.ofInts(
                  t.name(), t.shape(), java.util.Arrays.stream(v).mapToInt(x -> (int) x).toArray())
              : Tensor.ofLongs(t.name(), t.shape(), v);
      replace(ed, e.reader(), k, nt);
    }
  }

  /** The node reading the sink's bias (its Gemm, or the Add after its MatMul). */
  static Node biasReader(GraphEditor ed, LinearLayer l) {
    if (l.kind() != LinearLayer.Kind.MATMUL) {
      return l.node();
    }
    return ed.index().soleConsumer(l.node().output(0)).orElseThrow();
  }

  /** The current name of the sink's bias constant. */
  static String currentBias(GraphEditor ed, LinearLayer l) {
    Node r = biasReader(ed, l);
    if (r == l.node()) {
      return r.input(2);
    }
    for (String in : r.inputs()) {
      if (ed.index().constant(in).isPresent()) {
        return in;
      }
    }
    throw new IllegalStateException("no bias for " + l.name());
  }

  /** The weight's input index (MatMul and Gemm both read it second). */
  static int weightInput(LinearLayer l) {
    return 1;
  }

  static Tensor current(GraphEditor ed, Node n, int input) {
    return ed.index()
        .constant(n.input(input))
        .orElseThrow(() -> new IllegalStateException("not a constant: " + n.input(input)));
  }

  private static void replace(GraphEditor ed, Node n, int input, Tensor t) {
    Set<Node> readers = Collections.newSetFromMap(new IdentityHashMap<>());
    readers.add(n);
    ed.replaceConstant(n.input(input), t, readers, "_pruned");
  }

  /**
   * {@code t} with only the kept unit blocks along {@code axis} ({@code unitSize} entries each),
   * multiplied by {@code scale[k]} for the {@code k}-th kept unit when given.
   */
  static Tensor slice(Tensor t, int axis, int[] keep, long unitSize, double[] scale) {
    long[] shape = t.shape();
    int outer = 1;
    for (int i = 0; i < axis; i++) {
      outer *= (int) shape[i];
    }
    int inner = 1;
    for (int i = axis + 1; i < shape.length; i++) {
      inner *= (int) shape[i];
    }
    int width = (int) shape[axis];
    int us = (int) unitSize;
    float[] src = t.toFloatArray();
    int kept = keep.length * us;
    float[] dst = new float[outer * kept * inner];
    for (int o = 0; o < outer; o++) {
      for (int k = 0; k < keep.length; k++) {
        float f = scale == null ? 1f : (float) scale[k];
        for (int c = 0; c < us; c++) {
          int from = (o * width + keep[k] * us + c) * inner;
          int to = (o * kept + k * us + c) * inner;
          for (int i = 0; i < inner; i++) {
            dst[to + i] = src[from + i] * f;
          }
        }
      }
    }
    long[] ns = shape.clone();
    ns[axis] = kept;
    return Tensor.ofFloats(t.name(), ns, dst).withDocString(t.docString());
  }
}
