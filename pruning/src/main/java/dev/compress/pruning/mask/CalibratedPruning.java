package dev.compress.pruning.mask;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphEditor;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayer.Kind;
import dev.compress.api.layers.TransformerBlocks;
import dev.compress.api.pass.PassContext;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.calibration.blocks.BlockSequentialCalibrator;
import dev.compress.calibration.hessian.HessianAccumulator;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The calibrated pruning passes' common run (Wanda, SparseGPT): every problem found before any
 * calibration; transformer blocks pruned in sequence, each calibrated on the outputs of the
 * already-pruned blocks before it ({@link BlockSequentialCalibrator}, as both references do); then
 * each pruned weight put in place through the {@link GraphEditor} (a weight also read outside the
 * selection is copied). A failure restores the original weights.
 */
public final class CalibratedPruning {

  /** Prunes one layer from its input statistics. */
  @FunctionalInterface
  public interface LayerPruner {
    /**
     * @param layer the layer
     * @param w its weight, {@code (out, in)} row-major; may be changed
     * @param hessian the running-mean Hessian {@code 2/n sum x x^T} of its input
     * @param report receives per-layer metrics and notes
     * @return the pruned weight, {@code (out, in)}
     */
    float[] prune(LinearLayer layer, float[] w, HessianAccumulator hessian, SparsityReport report)
        throws CompressionException;
  }

  private CalibratedPruning() {}

  /**
   * Every layer problem refused before calibration: weights that are not f32 initializers, shared
   * weights, unnamed nodes, Conv or transposed-input Gemm layers, a pattern whose M does not divide
   * a layer's input features, and missing calibration data.
   */
  public static List<String> problems(
      String type,
      ModelGraph model,
      List<LinearLayer> layers,
      SparsityPattern pattern,
      PassContext context) {
    List<String> problems = layerProblems(type, model, layers, pattern);
    if (context.calibration().isEmpty()) {
      problems.add(
          type
              + " needs calibration data: add a calibration block to the pipeline (e.g. kind:"
              + " text, source: builtin:calibration-text)");
    }
    return problems;
  }

  /** The layer problems of {@link #problems}, without the calibration check (validate-at-plan). */
  public static List<String> layerProblems(
      String type, ModelGraph model, List<LinearLayer> layers, SparsityPattern pattern) {
    List<String> problems = new ArrayList<>();
    Map<String, String> owner = new HashMap<>();
    for (LinearLayer l : layers) {
      String where = "layer '" + l.name() + "': ";
      Tensor w = model.graph().initializers().get(l.weight());
      if (w == null) {
        problems.add(where + "weight " + l.weight() + " is not an initializer");
      } else if (w.dtype() != DataType.FLOAT) {
        problems.add(
            where
                + "weight "
                + l.weight()
                + " is "
                + w.dtype()
                + "; "
                + type
                + " prunes FLOAT (f32) weights (prune before quantizing)");
      }
      if (l.nameSynthesized()) {
        problems.add(where + "the node has no name, so its input cannot be captured");
      }
      if (l.kind() == Kind.CONV) {
        problems.add(where + "Conv layers are not supported by " + type + "; add it to ignore");
      } else if (l.kind() == Kind.GEMM && l.node().intAttr("transA", 0) != 0) {
        problems.add(where + "Gemm with transA=1 is not supported");
      }
      pattern.divisibilityProblem("pattern", l).ifPresent(problems::add);
      String prev = owner.putIfAbsent(l.weight(), l.name());
      if (prev != null) {
        problems.add(
            where
                + "weight "
                + l.weight()
                + " is shared with layer '"
                + prev
                + "'; "
                + type
                + " needs one input per weight. HINT: add one of them to ignore");
      }
    }
    return problems;
  }

  /**
   * Prunes {@code layers} block by block and puts the results in the graph.
   *
   * @return the report, with the per-layer metric {@code sparsity} of every layer
   * @throws ConfigException listing every problem of {@link #problems}, before anything runs
   */
  public static SparsityReport run(
      String type,
      ModelGraph model,
      PassContext context,
      List<LinearLayer> layers,
      SparsityPattern pattern,
      String blockPattern,
      LayerPruner pruner)
      throws CompressionException {
    List<String> problems = problems(type, model, layers, pattern, context);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    SparsityReport report = new SparsityReport();
    CalibrationSet calibration = context.calibration().orElseThrow();
    List<TransformerBlocks.Block> blocks = TransformerBlocks.of(layers, blockPattern);
    long matched = blocks.stream().filter(TransformerBlocks.Block::matched).count();
    report.note(
        matched == 0 && !layers.isEmpty()
            ? "no transformer blocks found by blockPattern; "
                + layers.size()
                + " layers calibrated one at a time in graph order"
            : matched
                + " transformer blocks pruned in sequence, each on the outputs of the"
                + " pruned blocks before it; "
                + (blocks.size() - matched)
                + " layers outside any block calibrated on their own");
    Graph graph = model.graph();
    Map<String, Tensor> original = new LinkedHashMap<>();
    for (LinearLayer l : layers) {
      original.put(l.name(), graph.initializers().get(l.weight()));
    }
    Map<String, float[]> result = new LinkedHashMap<>(); // (out, in) by layer
    context.progress().start(type, layers.size());
    int[] done = {0};
    BlockSequentialCalibrator calibrator = new BlockSequentialCalibrator(model, context);
    try {
      calibrator.run(
          calibration,
          blocks,
          (block, hessians) -> {
            Map<String, float[]> out = new HashMap<>();
            for (LinearLayer l : block.layers()) {
              HessianAccumulator acc = hessians.get(l.name());
              if (acc.tokens() < l.inFeatures()) {
                report.note(
                    "WARNING layer '"
                        + l.name()
                        + "': "
                        + acc.tokens()
                        + " calibration tokens for "
                        + l.inFeatures()
                        + " input features. HINT: use more calibration samples");
              }
              float[] w = WeightView.outByIn(original.get(l.name()).toFloatArray(), l);
              float[] p = pruner.prune(l, w, acc, report);
              result.put(l.name(), p);
              out.put(l.name(), p);
              context.progress().step(type, ++done[0], layers.size(), l.name());
            }
            return out;
          });
    } finally {
      calibrator.restore(); // the graph gets the results through the editor below
    }
    GraphEditor ed = GraphEditor.of(graph);
    for (LinearLayer l : layers) {
      float[] p = result.get(l.name());
      Tensor old = original.get(l.name());
      float[] before = old.toFloatArray();
      float[] stored = WeightView.toStored(p, l);
      long prunedNow = 0;
      for (int i = 0; i < stored.length; i++) {
        if (stored[i] == 0f && before[i] != 0f) {
          prunedNow++;
        }
      }
      Tensor t = Tensor.ofFloats(old.name(), old.shape(), stored).withDocString(old.docString());
      Set<Node> readers = Collections.newSetFromMap(new IdentityHashMap<>());
      readers.add(l.node());
      ed.replaceConstant(l.weight(), t, readers, "_pruned");
      report.layer(l.name(), stored, prunedNow);
    }
    context.progress().finish(type);
    report.metric("blocks", (double) matched);
    return report;
  }
}
