package dev.compress.pruning.wanda;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.calibration.hessian.HessianAccumulator;
import dev.compress.pruning.mask.CalibratedPruning;
import dev.compress.pruning.mask.ScoreMasks;
import dev.compress.pruning.mask.SparsityPattern;
import dev.compress.pruning.mask.SparsityReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Wanda pruning (Sun, Liu, Bair and Kolter 2023, "A Simple and Effective Pruning Approach for Large
 * Language Models", arXiv:2306.11695): weight {@code (i, j)} of a layer scores {@code |W_ij| *
 * ||X_j||_2}, {@code X_j} the layer's {@code j}-th input feature over the calibration tokens; each
 * output row loses its lowest-scoring weights (unstructured), or in every group of M consecutive
 * inputs of a row the N lowest (N:M). No weight update. Transformer blocks are pruned in sequence,
 * each calibrated on the outputs of the already-pruned blocks before it, as the reference does.
 *
 * <p>The norm: the reference keeps {@code scaler_row}, the running mean over calibration sequences
 * of the per-sequence sums of {@code x_j^2}; the diagonal of the layer's running-mean Hessian
 * ({@link HessianAccumulator}, {@code 2/n sum x x^T} over the same sequences, padding excluded) is
 * exactly twice it, so the score here is {@code |W_ij| * sqrt(H_jj)}: a constant factor per layer,
 * the same masks.
 *
 * <p>Unstructured rows lose {@link ScoreMasks#rowCount} weights each (the reference's {@code
 * floor(s * cols)}, plus one on some rows when {@code s * cols} is not whole), so each layer's
 * sparsity is exactly {@code round(s * rows * cols) / (rows * cols)}. Ties are broken by position.
 *
 * <p>The weights stay dense f32 tensors: the file does not shrink, and ONNX Runtime gets no speed
 * from the zeros on CPU ({@link SparsityReport#RUNTIME_NOTE}).
 */
public final class WandaPass implements Pass<WandaConfig>, PassValidation {
  private final WandaConfig config;

  /** A pass for a validated config. */
  public WandaPass(WandaConfig config) {
    this.config = config;
  }

  @Override
  public WandaConfig config() {
    return config;
  }

  /**
   * The Wanda mask of one layer, true where pruned.
   *
   * @param w the weight {@code (rows, cols)}
   * @param sumSquares per input feature, {@code ||X_j||^2} up to a constant factor
   */
  public static boolean[] mask(
      float[] w,
      int rows,
      int cols,
      double[] sumSquares,
      SparsityPattern pattern,
      double sparsity) {
    double[] score = new double[w.length];
    for (int j = 0; j < cols; j++) {
      double norm = Math.sqrt(sumSquares[j]);
      for (int r = 0; r < rows; r++) {
        score[r * cols + j] = Math.abs(w[r * cols + j]) * norm;
      }
    }
    return ScoreMasks.of(score, rows, cols, pattern, sparsity);
  }

  /** Every layer problem {@link #apply} refuses, found before any calibration. */
  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    return CalibratedPruning.layerProblems(
        WandaProvider.TYPE, model, selected, config.sparsityPattern());
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    List<LinearLayer> layers = config.selection().select(LinearLayers.of(model.graph()));
    SparsityPattern pattern = config.sparsityPattern();
    SparsityReport report =
        CalibratedPruning.run(
            WandaProvider.TYPE,
            model,
            context,
            layers,
            pattern,
            config.blockPattern(),
            (l, w, acc, rep) -> {
              int rows = (int) l.outFeatures();
              int cols = (int) l.inFeatures();
              double[] h = acc.take();
              double[] diag = new double[cols];
              for (int j = 0; j < cols; j++) {
                diag[j] = h[j * cols + j];
              }
              boolean[] m = mask(w, rows, cols, diag, pattern, config.sparsity());
              for (int i = 0; i < w.length; i++) {
                if (m[i]) {
                  w[i] = 0f;
                }
              }
              return w;
            });
    long bytes = 0;
    List<String> touched = new ArrayList<>();
    for (LinearLayer l : layers) {
      touched.add(l.name());
      bytes += 4L * l.outFeatures() * l.inFeatures();
    }
    return new PassReport(
        WandaProvider.TYPE,
        touched,
        List.of(),
        bytes,
        bytes,
        report.metrics(),
        report.layerMetrics(),
        report.notes(),
        Duration.ofNanos(System.nanoTime() - start));
  }
}
