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
 *       part a bias cannot restore.
 * </ul>
 *
 * <p>Gradient-based (Fisher/Taylor, Kwon et al.'s own score) needs the trainer and is not here.
 */
final class UnitScores {
  private UnitScores() {}

  /**
   * Row {@code i} of the out x in view as the {@code i}-th input channel's weights {@code [out]}.
   */
  static float[] sinkRows(Tensor w, LinearLayer l) {
    float[] v = w.toFloatArray();
    int in = (int) (l.layout() == LinearLayer.WeightLayout.IN_OUT ? w.dim(0) : w.dim(1));
    int out = v.length / in;
    if (l.layout() == LinearLayer.WeightLayout.IN_OUT) {
      return v; // [in, out] already
    }
    float[] r = new float[v.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        r[i * out + o] = v[o * in + i];
      }
    }
    return r;
  }

  static double[] of(
      GraphIndex ix,
      DependencyGroup g,
      StructuredPruningConfig.Importance how,
      java.util.Map<String, SinkStats> stats) {
    int units = (int) g.units();
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
            };
        s[(int) (j / sk.unitSize())] += f * norm;
      }
    }
    return s;
  }
}
