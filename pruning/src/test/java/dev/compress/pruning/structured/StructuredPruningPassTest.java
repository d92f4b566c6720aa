package dev.compress.pruning.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.ExportedEncoder;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Structured pruning of a one-block encoder as older exports write it ({@link ExportedEncoder}):
 * the pruned model equals the masked dense one in ONNX Runtime, the file is smaller, the
 * least-squares rescaling lowers the output error.
 */
class StructuredPruningPassTest {
  @TempDir Path tmp;

  static StructuredPruningConfig config(
      double kept,
      StructuredPruningConfig.Importance imp,
      StructuredPruningConfig.Rescale rescale,
      boolean comp,
      Map<String, Double> removed) {
    return StructuredPruningConfig.builder()
        .budget(StructuredPruningConfig.Budget.FLOPS)
        .kept(kept)
        .importance(imp)
        .rescale(rescale)
        .biasCompensation(comp)
        .damping(1e-3)
        .removed(removed)
        .build();
  }

  static Map<String, Tensor> batch(long seed, int b, int s) {
    Random r = new Random(seed);
    float[] x = new float[b * s * ExportedEncoder.HIDDEN];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    long[] mask = new long[b * s];
    for (int i = 0; i < b; i++) {
      int len = s - (i % 3);
      for (int t = 0; t < len; t++) {
        mask[i * s + t] = 1;
      }
    }
    return Map.of(
        "x", Tensor.ofFloats("x", new long[] {b, s, ExportedEncoder.HIDDEN}, x),
        "attention_mask", Tensor.ofLongs("attention_mask", new long[] {b, s}, mask));
  }

  static float[] run(ModelGraph m, Map<String, Tensor> in) throws Exception {
    try (OrtExecutor ort = OrtExecutor.builder().setModel(m).optIntraOpThreads(1).build()) {
      return ort.forward(in).get("y").toFloatArray();
    }
  }

  static long parameters(ModelGraph m) {
    return m.graph().initializers().values().stream().mapToLong(Tensor::elementCount).sum();
  }

  /** The original row index of every row of {@code pruned} ([kept, cols]) in {@code dense}. */
  static List<Integer> keptRows(Tensor dense, Tensor pruned) {
    int cols = (int) dense.dim(1);
    float[] d = dense.toFloatArray();
    float[] p = pruned.toFloatArray();
    List<Integer> out = new ArrayList<>();
    for (int k = 0; k < pruned.dim(0); k++) {
      for (int i = 0; i < dense.dim(0); i++) {
        if (Arrays.equals(d, i * cols, (i + 1) * cols, p, k * cols, (k + 1) * cols)) {
          out.add(i);
          break;
        }
      }
    }
    return out;
  }

  /** The dense model with the sink rows of the units missing from {@code pruned} set to zero. */
  static ModelGraph masked(ModelGraph dense, ModelGraph pruned, String weight) {
    Tensor d = dense.graph().initializers().get(weight);
    Tensor p = pruned.graph().constant(weight).orElseThrow();
    List<Integer> kept = keptRows(d, p);
    assertThat(kept).hasSize((int) p.dim(0));
    float[] v = d.toFloatArray();
    int cols = (int) d.dim(1);
    for (int i = 0; i < d.dim(0); i++) {
      if (!kept.contains(i)) {
        Arrays.fill(v, i * cols, (i + 1) * cols, 0f);
      }
    }
    dense.graph().putInitializer(Tensor.ofFloats(weight, d.shape(), v));
    return dense;
  }

  static double maxDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  @ParameterizedTest(name = "concat shapes {0}")
  @ValueSource(booleans = {true, false})
  void prunedEncoderEqualsMaskedDenseInOnnxRuntimeAndIsSmaller(boolean concatShapes)
      throws Exception {
    ModelGraph m = ExportedEncoder.build(7, concatShapes);
    ModelGraph dense = ExportedEncoder.build(7, concatShapes);
    PassReport rep =
        new StructuredPruningPass(
                config(
                    0.6,
                    StructuredPruningConfig.Importance.WEIGHT_NORM,
                    StructuredPruningConfig.Rescale.NONE,
                    false,
                    Map.of()))
            .apply(m, PassContext.of(0));
    double heads = rep.metrics().get(ExportedEncoder.O_PROJ + "/heads_kept");
    double neurons = rep.metrics().get(ExportedEncoder.FC2 + "/neurons_kept");
    assertThat(heads).isLessThan(ExportedEncoder.HEADS).isGreaterThanOrEqualTo(1);
    assertThat(neurons).isLessThan(ExportedEncoder.FFN);
    assertThat(rep.metrics().get("linear_flops_kept_fraction")).isLessThanOrEqualTo(0.6);
    assertThat(rep.layersSkipped())
        .extracting(PassReport.Skip::reason)
        .anyMatch(s -> s.contains("hidden-size cut refused") && s.contains("(ReduceMean)"));

    Path f = tmp.resolve("pruned.onnx");
    Path fd = tmp.resolve("dense.onnx");
    OnnxWriter.write(m, f);
    OnnxWriter.write(dense, fd);
    ModelGraph back = OnnxReader.read(f);
    assertThat(parameters(back)).isLessThan(parameters(dense));
    assertThat(Files.size(f)).isLessThan(Files.size(fd));
    assertThat(back.graph().initializers().get("/attn/query.weight").shape())
        .containsExactly(ExportedEncoder.HIDDEN, (long) heads * ExportedEncoder.HEAD_DIM);

    ModelGraph mask = masked(dense, back, "/attn/output.weight");
    mask = masked(mask, back, "/ffn/fc2.weight");
    Map<String, Tensor> in = batch(3, 3, 6);
    double diff = maxDiff(run(back, in), run(mask, in));
    System.out.printf(
        "[structured] tiny encoder (concat %s): %d/%d heads, %d/%d neurons kept, max |pruned - masked| %.2e%n",
        concatShapes, (int) heads, ExportedEncoder.HEADS, (int) neurons, ExportedEncoder.FFN, diff);
    assertThat(diff).isLessThan(1e-5); // measured 0.0 (same sums, fewer terms)
  }

  static CalibrationSet calibration(int batches) {
    List<Map<String, Tensor>> b = new ArrayList<>();
    for (int i = 0; i < batches; i++) {
      b.add(batch(100 + i, 4, 8));
    }
    return new CalibrationSet(
        b, new CalibrationIdentity("test", "tensors", batches * 4, 8, 0, false, "0"));
  }

  static double relativeError(float[] a, float[] ref) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < a.length; i++) {
      num += (a[i] - ref[i]) * (double) (a[i] - ref[i]);
      den += (double) ref[i] * ref[i];
    }
    return Math.sqrt(num / den);
  }

  @Test
  void leastSquaresRescalingLowersTheOutputError() throws Exception {
    ModelGraph dense = ExportedEncoder.build(11, true);
    Map<String, Tensor> held = batch(999, 4, 8);
    float[] ref = run(dense, held);
    double[] err = new double[3];
    int i = 0;
    for (var mode :
        List.of(
            new Object[] {StructuredPruningConfig.Rescale.NONE, false},
            new Object[] {StructuredPruningConfig.Rescale.NONE, true},
            new Object[] {StructuredPruningConfig.Rescale.LEAST_SQUARES, true})) {
      ModelGraph m = ExportedEncoder.build(11, true);
      PassContext ctx =
          new PassContext(0, Optional.of(calibration(4)), Optional.empty(), ProgressListener.NONE);
      PassReport rep =
          new StructuredPruningPass(
                  config(
                      0.5,
                      StructuredPruningConfig.Importance.FLUCTUATION,
                      (StructuredPruningConfig.Rescale) mode[0],
                      (Boolean) mode[1],
                      Map.of()))
              .apply(m, ctx);
      err[i++] = relativeError(run(m, held), ref);
      if (mode[0] == StructuredPruningConfig.Rescale.LEAST_SQUARES) {
        assertThat(rep.metrics().get(ExportedEncoder.FC2 + "/output_error_after_rescale"))
            .isLessThanOrEqualTo(
                rep.metrics().get(ExportedEncoder.FC2 + "/output_error_before_rescale"));
      }
    }
    System.out.printf(
        "[structured] tiny encoder at 50%% flops, held-out relative output error: plain %.4f, bias"
            + " compensation %.4f, + least squares %.4f%n",
        err[0], err[1], err[2]);
    // measured 0.3274 / 0.2092 / 0.2094: FLAP's compensation restores the removed units' mean;
    // on random weights the units are nearly independent, so the least-squares scales stay near 1
    // (the per-layer error it minimizes drops, asserted above; MiniLM's table shows the real gain)
    assertThat(err[1]).isLessThan(0.8 * err[0]);
    assertThat(err[2]).isLessThan(1.01 * err[1]);
  }

  @Test
  void refusesPlansThatRemoveEveryUnitOrConflict() {
    ModelGraph m = ExportedEncoder.build(7, true);
    PassContext ctx = PassContext.of(0);
    assertThatThrownBy(
            () ->
                new StructuredPruningPass(
                        config(
                            0.9,
                            StructuredPruningConfig.Importance.WEIGHT_NORM,
                            StructuredPruningConfig.Rescale.NONE,
                            false,
                            Map.of(ExportedEncoder.O_PROJ, 0.9)))
                    .apply(m, ctx))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("would remove every one of the 4 heads");
    assertThatThrownBy(
            () ->
                new StructuredPruningPass(
                        config(
                            0.9,
                            StructuredPruningConfig.Importance.WEIGHT_NORM,
                            StructuredPruningConfig.Rescale.NONE,
                            false,
                            Map.of("re:/attn/.*", 0.25, ExportedEncoder.O_PROJ, 0.5)))
                    .apply(m, ctx))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("targeted twice with conflicting plans");
    assertThatThrownBy(
            () ->
                new StructuredPruningPass(
                        config(
                            0.6,
                            StructuredPruningConfig.Importance.ACTIVATION,
                            StructuredPruningConfig.Rescale.NONE,
                            false,
                            Map.of()))
                    .apply(m, ctx))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("needs a calibration block");
    assertThatThrownBy(
            () ->
                config(
                    0,
                    StructuredPruningConfig.Importance.WEIGHT_NORM,
                    StructuredPruningConfig.Rescale.NONE,
                    false,
                    Map.of("x", 1.0)))
        .hasMessageContaining("kept must be in (0, 1]")
        .hasMessageContaining("removed['x'] must be in [0, 1)");
    // nothing was written: the graph is unchanged
    assertThat(m.graph().initializers().get("/attn/query.weight").shape())
        .containsExactly(ExportedEncoder.HIDDEN, ExportedEncoder.HIDDEN);
  }

  @Test
  void validateReportsTheSameProblemsBeforeAnythingRuns() throws Exception {
    ModelGraph m = ExportedEncoder.build(7, true);
    StructuredPruningPass p =
        new StructuredPruningPass(
            config(
                0.9,
                StructuredPruningConfig.Importance.WEIGHT_NORM,
                StructuredPruningConfig.Rescale.NONE,
                false,
                Map.of(ExportedEncoder.O_PROJ, 0.9)));
    assertThat(p.validate(m, dev.compress.api.layers.LinearLayers.of(m.graph())))
        .singleElement()
        .asString()
        .contains("would remove every one of the 4 heads");
  }

  @Test
  void aStructureTheRulesCannotFollowIsOneLineNamingTheNodeAndOp() {
    ModelGraph m = ExportedEncoder.build(7, true);
    // put a CumSum between the FFN's activation and its second linear
    var nodes = m.graph().nodes();
    var fc2 = m.graph().node(ExportedEncoder.FC2).orElseThrow();
    String in = fc2.input(0);
    m.graph().putInitializer(Tensor.ofLongs("axis0", new long[0], 2));
    nodes.add(
        nodes.indexOf(fc2),
        dev.compress.api.graph.Node.of(
            "/ffn/CumSum", "CumSum", List.of(in, "axis0"), List.of("cs")));
    fc2.inputs().set(0, "cs");
    assertThatThrownBy(
            () ->
                new StructuredPruningPass(
                        StructuredPruningConfig.builder()
                            .targets("re:/ffn/.*")
                            .budget(StructuredPruningConfig.Budget.PARAMS)
                            .kept(0.6)
                            .importance(StructuredPruningConfig.Importance.WEIGHT_NORM)
                            .rescale(StructuredPruningConfig.Rescale.NONE)
                            .biasCompensation(false)
                            .damping(0)
                            .removed(Map.of())
                            .build())
                    .apply(m, PassContext.of(0)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("node '/ffn/CumSum' (CumSum)");
  }
}
