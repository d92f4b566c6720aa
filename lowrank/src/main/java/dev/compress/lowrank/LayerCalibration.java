package dev.compress.lowrank;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.pass.PassContext;
import dev.compress.api.tensor.Tensor;
import dev.compress.calibration.activation.ActivationCapture;
import dev.compress.calibration.activation.ActivationStats;
import dev.compress.calibration.activation.TokenRows;
import dev.compress.calibration.hessian.HessianAccumulator;
import dev.compress.linalg.Matrix;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One pass of the calibration data through the unchanged model, recording for each selected layer
 * input {@code mean |x_j|} ({@link ActivationStats}) and/or {@code X^T X} ({@link
 * HessianAccumulator}, rescaled from its {@code 2/n X^T X} running mean), over real tokens only.
 * Layers reading the same value (q, k, v) share one set of statistics.
 */
final class LayerCalibration {
  private final Map<String, ActivationStats> stats = new LinkedHashMap<>();
  private final Map<String, HessianAccumulator> grams = new LinkedHashMap<>();

  private LayerCalibration() {}

  static LayerCalibration run(
      PassContext context,
      ModelGraph model,
      List<LinearLayer> layers,
      boolean meanAbs,
      boolean gram,
      String type)
      throws CompressionException {
    CalibrationSet data =
        context
            .calibration()
            .orElseThrow(
                () ->
                    new ConfigException(
                        type + " needs calibration data: add a calibration block to the pipeline"));
    LayerCalibration c = new LayerCalibration();
    Map<String, String> captureNode = new LinkedHashMap<>(); // input value -> one reading node
    for (LinearLayer l : layers) {
      captureNode.putIfAbsent(l.input(), l.name());
      int cols = (int) l.inFeatures();
      if (meanAbs) {
        c.stats.computeIfAbsent(l.input(), k -> new ActivationStats(cols));
      }
      if (gram) {
        c.grams.computeIfAbsent(l.input(), k -> new HessianAccumulator(cols));
      }
    }
    Set<String> nodes = new LinkedHashSet<>(captureNode.values());
    int batches = data.batches().size();
    context.progress().start(type + " calibration", batches);
    ActivationCapture.run(
        context,
        model,
        data,
        nodes,
        (i, batch, r) -> {
          Tensor mask = batch.get("attention_mask");
          for (Map.Entry<String, String> e : captureNode.entrySet()) {
            TokenRows x = TokenRows.of(r.activation(e.getValue()), mask);
            ActivationStats s = c.stats.get(e.getKey());
            if (s != null) {
              s.add(x);
            }
            HessianAccumulator h = c.grams.get(e.getKey());
            if (h != null) {
              h.add(x);
            }
          }
          context.progress().step(type + " calibration", i + 1, batches, "batch " + (i + 1));
        });
    context.progress().finish(type + " calibration");
    return c;
  }

  /** {@code mean |x_j|} of the layer's input, or null when not recorded. */
  double[] meanAbs(LinearLayer l) {
    ActivationStats s = stats.get(l.input());
    return s == null ? null : s.meanAbs();
  }

  /** {@code X^T X} of the layer's input (rows of X are tokens), or null when not recorded. */
  Matrix gram(LinearLayer l) {
    HessianAccumulator h = grams.get(l.input());
    if (h == null) {
      return null;
    }
    // H = 2/n X^T X with n the sequences added: undo the scale, so whitened singular values are
    // the output error ||(W - W') X^T||_F itself.
    double[] g = h.hessian();
    double f = h.samples() / 2.0;
    for (int i = 0; i < g.length; i++) {
      g[i] *= f;
    }
    return Matrix.wrap(h.cols(), h.cols(), g);
  }
}
