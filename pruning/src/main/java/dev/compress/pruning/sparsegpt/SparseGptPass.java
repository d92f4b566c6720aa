package dev.compress.pruning.sparsegpt;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.PassValidation;
import dev.compress.calibration.hessian.SecondOrderSweep;
import dev.compress.pruning.mask.CalibratedPruning;
import dev.compress.pruning.mask.SparsityPattern;
import dev.compress.pruning.mask.SparsityReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * SparseGPT pruning of a model (Frantar and Alistarh 2023, arXiv:2301.00774): transformer blocks in
 * sequence, each calibrated on the outputs of the already-pruned blocks before it, every layer
 * pruned by {@link SparseGptPruner} from its input Hessian with GPTQ's error-compensating update.
 *
 * <p>The weights stay dense f32 tensors: the file does not shrink, and ONNX Runtime gets no speed
 * from the zeros on CPU ({@link SparsityReport#RUNTIME_NOTE}, in the report's notes and in the
 * metrics as {@code ort_cpu_speedup = 1}). Joint pruning and quantization in one sweep is not
 * offered: the quantizer grid lives in the quantization module, which pruning does not import.
 */
public final class SparseGptPass implements Pass<SparseGptConfig>, PassValidation {
  /** Damping escalates 10x while the factorization fails, up to this fraction. */
  static final double MAX_DAMP = 1.0;

  private final SparseGptConfig config;

  /** A pass for a validated config. */
  public SparseGptPass(SparseGptConfig config) {
    this.config = config;
  }

  @Override
  public SparseGptConfig config() {
    return config;
  }

  /** Every layer problem {@link #apply} refuses, found before any calibration. */
  @Override
  public List<String> validate(ModelGraph model, List<LinearLayer> selected) {
    return CalibratedPruning.layerProblems(
        SparseGptProvider.TYPE, model, selected, config.sparsityPattern());
  }

  @Override
  public PassReport apply(ModelGraph model, PassContext context) throws CompressionException {
    long start = System.nanoTime();
    List<LinearLayer> layers = config.selection().select(LinearLayers.of(model.graph()));
    SparsityPattern pattern = config.sparsityPattern();
    SparsityReport report =
        CalibratedPruning.run(
            SparseGptProvider.TYPE,
            model,
            context,
            layers,
            pattern,
            config.blockPattern(),
            (l, w, acc, rep) -> {
              int rows = (int) l.outFeatures();
              int cols = (int) l.inFeatures();
              SparseGptPruner.Result r;
              try {
                r =
                    SparseGptPruner.prune(
                        w,
                        rows,
                        cols,
                        acc.take(),
                        config.sparsity(),
                        pattern,
                        config.blockSize(),
                        config.dampPercent(),
                        MAX_DAMP);
              } catch (SecondOrderSweep.NotPositiveDefiniteException e) {
                throw new ConfigException(
                    "layer '"
                        + l.name()
                        + "': the Hessian is not positive definite even with"
                        + " damping "
                        + e.damp()
                        + " x mean(diag H): "
                        + e.getMessage()
                        + ". HINT: check the calibration data for constant or non-finite"
                        + " activations");
              }
              rep.layerMetric(l.name(), "sparsegpt_loss", r.loss());
              if (r.damp() != config.dampPercent()) {
                rep.layerMetric(l.name(), "damp_percent", r.damp());
                rep.note("layer '" + l.name() + "': damping escalated to " + r.damp());
              }
              if (r.deadColumns() > 0) {
                rep.layerMetric(l.name(), "dead_columns", (double) r.deadColumns());
              }
              return r.weight();
            });
    long bytes = 0;
    List<String> touched = new ArrayList<>();
    for (LinearLayer l : layers) {
      touched.add(l.name());
      bytes += 4L * l.outFeatures() * l.inFeatures();
    }
    return new PassReport(
        SparseGptProvider.TYPE,
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
