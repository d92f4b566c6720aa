package dev.compress.pruning.structured;

import dev.compress.api.graph.GraphIndex;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.tensor.Tensor;

/**
 * Importance of each unit of a {@link DependencyGroup}, reduced over the group (DepGraph sums a
 * unit's scores over every member):
 *
 * <ul>
 *   <li>{@code weight-norm}: {@code sum ||w||^2} over the unit's source columns and sink rows;
 *   <li>{@code activation} (Wanda, Sun et al. 2023, as a unit score): {@code sum_j mean(x_j^2) *
 *       ||W[j, :]||^2} over the unit's sink input channels {@code j}, the energy the unit adds to
 *       the sink's output;
 *   <li>{@code fluctuation} (FLAP, An et al. 2024): {@code sum_j var(x_j) * ||W[j, :]||^2}, the
 *       part a bias cannot restore;
 *   <li>{@code filter-l1} / {@code filter-l2} (Li et al. 2017, "Pruning Filters for Efficient
 *       ConvNets"): the L1 / L2 norm of the unit's output filter, summed over the group's sources;
 *   <li>{@code bn-scale} (Liu et al. 2017, "Learning Efficient Convolutional Networks through
 *       Network Slimming"): {@code sum |gamma|} of the unit's channels over the group's
 *       BatchNormalizations.
 * </ul>
 *
 * <p>A Conv sink's activation statistics are per input channel over every position (batch and
 * spatial). Gradient-based scores (Taylor, Fisher) come from {@link GradientScores}.
 */
final class UnitScores {
  private UnitScores() {}

  /**
   * Row {@code i} of the out x in view as the {@code i}-th input channel's weights {@code [out]}.
   */
  static float[] sinkRows(Tensor w, LinearLayer l) {
    float[] v = w.toFloatArray();
    int in = (int) (l.layout() == LinearLayer.WeightLayout.IN_OUT ? w.dim(0) : w.dim(1));
    if (l.layout() == LinearLayer.WeightLayout.IN_OUT) {
      return v; // [in, out] already
    }
    int out = (int) w.dim(0);
    int inner = v.length / (out * in); // a Conv's kernel: [out, in, k...] -> [in, out * k...]
    float[] r = new float[v.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        System.arraycopy(v, (o * in + i) * inner, r, (i * out + o) * inner, inner);
      }
    }
    return r;
  }

  /** Per unit, the sum over sources of the L1 or L2 norm of the unit's output filter. */
  private static double[] filterNorms(GraphIndex ix, DependencyGroup g, boolean l1) {
    double[] s = new double[(int) g.units()];
    for (LinearLayer src : g.sources()) {
      double[] sq = new double[s.length];
      Tensor w = ix.constant(src.node().input(1)).orElseThrow();
      float[] v = w.toFloatArray();
      boolean inOut = src.layout() == LinearLayer.WeightLayout.IN_OUT;
      int cols = (int) (inOut ? w.dim(1) : w.dim(0)); // output channels
      int rows = v.length / cols;
      for (int i = 0; i < v.length; i++) {
        int ch = inOut ? i % cols : i / rows;
        sq[(int) (ch / g.unitSize())] += l1 ? Math.abs(v[i]) : (double) v[i] * v[i];
      }
      for (int u = 0; u < s.length; u++) {
        s[u] += l1 ? sq[u] : Math.sqrt(sq[u]);
      }
    }
    return s;
  }

  /** The BatchNormalization scales of {@code g} (input 1 of a BatchNormalization it slices). */
  static java.util.List<ChannelTrace.ConstSlice> bnScales(DependencyGroup g) {
    return g.consts().stream()
        .filter(c -> c.input() == 1 && c.node().opType().equals("BatchNormalization"))
        .toList();
  }

  static double[] of(
      GraphIndex ix,
      DependencyGroup g,
      StructuredPruningConfig.Importance how,
      java.util.Map<String, SinkStats> stats) {
    int units = (int) g.units();
    switch (how) {
      case FILTER_L1, FILTER_L2 -> {
        return filterNorms(ix, g, how == StructuredPruningConfig.Importance.FILTER_L1);
      }
      case BN_SCALE -> {
        double[] s = new double[units];
        for (ChannelTrace.ConstSlice c : bnScales(g)) {
          float[] gamma = ix.constant(c.value()).orElseThrow().toFloatArray();
          for (int i = 0; i < gamma.length; i++) {
            s[(int) (i / c.unitSize())] += Math.abs(gamma[i]);
          }
        }
        return s;
      }
      case TAYLOR, FISHER ->
          throw new IllegalArgumentException(how + " scores come from GradientScores");
      default -> {}
    }
    double[] s = new double[units];
    if (how == StructuredPruningConfig.Importance.WEIGHT_NORM) {
      for (LinearLayer src : g.sources()) {
        Tensor w = ix.constant(src.node().input(1)).orElseThrow();
        float[] v = w.toFloatArray();
        boolean inOut = src.layout() == LinearLayer.WeightLayout.IN_OUT;
        int cols = (int) (inOut ? w.dim(1) : w.dim(0)); // output channels
        int rows = v.length / cols;
        for (int i = 0; i < v.length; i++) {
          int ch = inOut ? i % cols : i / rows;
          s[(int) (ch / g.unitSize())] += (double) v[i] * v[i];
        }
      }
    }
    for (ChannelTrace.Sink sk : g.sinks()) {
      LinearLayer l = sk.layer();
      float[] rows = sinkRows(ix.constant(l.node().input(1)).orElseThrow(), l);
      int in = (int) (units * sk.unitSize());
      int out = rows.length / in;
      SinkStats st = stats == null ? null : stats.get(l.name());
      for (int j = 0; j < in; j++) {
        double norm = 0;
        for (int o = 0; o < out; o++) {
          norm += (double) rows[j * out + o] * rows[j * out + o];
        }
        double f =
            switch (how) {
              case WEIGHT_NORM -> 1;
              case ACTIVATION -> st.meanSquare(j);
              case FLUCTUATION -> Math.max(0, st.meanSquare(j) - st.mean(j) * st.mean(j));
              default -> throw new IllegalStateException(how.toString());
            };
        s[(int) (j / sk.unitSize())] += f * norm;
      }
    }
    return s;
  }
}
