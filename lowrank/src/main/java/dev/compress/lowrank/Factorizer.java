package dev.compress.lowrank;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.linalg.Matrix;
import dev.compress.lowrank.rank.Allocation;
import dev.compress.lowrank.rank.LayerSpectrum;
import dev.compress.lowrank.rank.RankAllocator;
import dev.compress.lowrank.rank.RankRule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The steps every factorization pass shares, around the method's {@link Decomposer}:
 *
 * <ol>
 *   <li>select the linear layers and check every one before any work (a float32 constant weight,
 *       MatMul or Gemm without {@code transA}; Conv layers and weights read by other nodes are
 *       skipped with the reason in the report);
 *   <li>one calibration pass when the method needs {@code mean |x|} or {@code X^T X};
 *   <li>decompose every layer, allocate the ranks ({@link RankAllocator}), and only then
 *   <li>rewrite the graph ({@link FactorWriter}) for the layers whose rank removes parameters.
 * </ol>
 *
 * <p>Report metrics, every ratio saying whether it counts parameters removed or kept: {@code
 * parameters_before}, {@code parameters_after} (over the selected layers), {@code
 * parameters_removed_fraction}, {@code parameters_kept_fraction}; per layer {@code LAYER/rank},
 * {@code LAYER/break_even_rank}, {@code LAYER/truncation_loss_relative} (dropped {@code sum
 * sigma^2} over the total, in the method's metric) and what the method adds.
 */
public final class Factorizer {
  private Factorizer() {}

  /** Runs the steps for a pass of type {@code type}. */
  public static PassReport run(
      String type, LowRankConfig config, Decomposer method, ModelGraph model, PassContext context)
      throws CompressionException {
    long start = System.nanoTime();
    Graph graph = model.graph();
    List<LinearLayer> selected = config.selection().select(LinearLayers.of(graph));
    GraphEditor ed = GraphEditor.of(graph);
    List<String> problems = new ArrayList<>();
    List<PassReport.Skip> skipped = new ArrayList<>();
    List<LinearLayer> layers = new ArrayList<>();
    for (LinearLayer l : selected) {
      String where = "layer '" + l.name() + "'";
      Optional<Tensor> w = graph.constant(l.weight());
      if (l.kind() == LinearLayer.Kind.CONV) {
        skipped.add(new PassReport.Skip(l.name(), "Conv layers are not factorized"));
      } else if (l.kind() == LinearLayer.Kind.GEMM && l.node().intAttr("transA", 0) != 0) {
        skipped.add(new PassReport.Skip(l.name(), "Gemm with transA=1 is not factorized"));
      } else if (ed.index().consumers(l.weight()).size() > 1) {
        skipped.add(
            new PassReport.Skip(
                l.name(), "its weight " + l.weight() + " is read by other nodes too (tied)"));
      } else if (w.isEmpty()) {
        problems.add(where + ": weight " + l.weight() + " is not a constant");
      } else if (w.get().dtype() != DataType.FLOAT || w.get().rank() != 2) {
        problems.add(
            where
                + ": weight "
                + l.weight()
                + " is "
                + w.get().dtype()
                + " "
                + java.util.Arrays.toString(w.get().shape())
                + "; factorization needs a 2-D float32 weight (factorize before quantizing)");
      } else {
        layers.add(l);
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    if (layers.isEmpty()) {
      throw new ConfigException(type + ": no selected layer can be factorized: " + skipped);
    }
    RankRule rule = config.rankRule();
    if (rule.allocation() == Allocation.FIXED || rule.allocation() == Allocation.UNIFORM) {
      // these ranks follow from the shapes alone: refuse a bad rank before any calibration
      List<LayerSpectrum> shapes = new ArrayList<>();
      for (LinearLayer l : layers) {
        shapes.add(new LayerSpectrum(l.name(), l.outFeatures(), l.inFeatures(), new double[0], 0));
      }
      RankAllocator.allocate(rule, shapes);
    }
    LayerCalibration cal =
        method.needsMeanAbs() || method.needsGram()
            ? LayerCalibration.run(
                context, model, layers, method.needsMeanAbs(), method.needsGram(), type)
            : null;

    Map<String, Double> metrics = new LinkedHashMap<>();
    boolean full = rule.allocation() == Allocation.GLOBAL || rule.allocation() == Allocation.ENERGY;
    List<Decomposition> decs = new ArrayList<>();
    List<LayerSpectrum> spectra = new ArrayList<>();
    context.progress().start(type, layers.size());
    for (int i = 0; i < layers.size(); i++) {
      LinearLayer l = layers.get(i);
      int m = (int) l.outFeatures();
      int n = (int) l.inFeatures();
      int triplets = full ? Math.min(m, n) : tripletsFor(rule, m, n);
      LayerInput in =
          new LayerInput(
              l,
              weight(graph.constant(l.weight()).orElseThrow(), l),
              cal == null ? null : cal.meanAbs(l),
              cal == null ? null : cal.gram(l),
              context.random(type + "/" + l.name()).nextLong());
      Decomposition d = method.decompose(in, rule, triplets, metrics);
      decs.add(d);
      spectra.add(d.spectrum(l.name()));
      context.progress().step(type, i + 1, layers.size(), l.name());
    }
    List<RankAllocator.Decision> ranks = RankAllocator.allocate(rule, spectra);

    // Everything is computed; now change the graph.
    long before = 0;
    long after = 0;
    List<String> touched = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      LinearLayer l = layers.get(i);
      LayerSpectrum s = spectra.get(i);
      RankAllocator.Decision r = ranks.get(i);
      before += s.dense();
      metrics.put(
          l.name() + "/break_even_rank", Math.floor(RankRule.breakEven(s.m(), s.n()) * 10) / 10);
      if (r.rank() == 0) {
        skipped.add(new PassReport.Skip(l.name(), r.reason()));
        after += s.dense();
        continue;
      }
      LowRankFactors f = decs.get(i).factors(r.rank());
      FactorWriter.write(ed, l, f);
      touched.add(l.name());
      after += f.parameters();
      metrics.put(l.name() + "/rank", (double) r.rank());
      metrics.put(l.name() + "/truncation_loss_relative", s.relativeLoss(r.rank()));
    }
    context.progress().finish(type);
    metrics.put("parameters_before", (double) before);
    metrics.put("parameters_after", (double) after);
    metrics.put("parameters_removed_fraction", before == 0 ? 0 : 1 - (double) after / before);
    metrics.put("parameters_kept_fraction", before == 0 ? 1 : (double) after / before);
    return new PassReport(
        type,
        touched,
        skipped,
        4 * before,
        4 * after,
        metrics,
        Duration.ofNanos(System.nanoTime() - start));
  }

  /** Triplets needed when the rule fixes the rank from the shape alone. */
  private static int tripletsFor(RankRule rule, int m, int n) {
    int r = Math.min(m, n);
    int k =
        rule.allocation() == Allocation.FIXED
            ? rule.rank()
            : RankRule.uniformRank(m, n, rule.parametersRemoved());
    return Math.max(1, Math.min(r, k));
  }

  /** The weight as {@code (m, n)} = out x in, whatever its storage layout. */
  static Matrix weight(Tensor t, LinearLayer l) {
    int rows = (int) t.dim(0);
    int cols = (int) t.dim(1);
    Matrix stored = Matrix.fromFloats(rows, cols, t.toFloatArray());
    return l.layout() == LinearLayer.WeightLayout.OUT_IN ? stored : stored.transpose();
  }
}
