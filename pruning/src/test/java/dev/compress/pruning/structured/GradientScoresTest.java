package dev.compress.pruning.structured;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.ExportedEncoder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Taylor and Fisher unit scores from unit-mask gradients ({@link GradientScores}): a unit whose
 * outgoing weights are zero scores exactly 0, a unit whose outgoing weights dominate ranks first,
 * with labels (cross-entropy) and without (the model's own Gaussian output distribution).
 */
class GradientScoresTest {
  static final int IN = 6;
  static final int HIDDEN = 8;
  static final int CLASSES = 3;
  static final int DEAD = 2;
  static final int STRONG = 5;

  /** x [N, 6] -> Gemm (8) -> Relu -> Gemm (3) -> logits; neuron 2 has zero outgoing weights. */
  static ModelGraph mlp() {
    Random r = new Random(3);
    GraphBuilder b = GraphBuilder.create("mlp").opset("", 17);
    String x = b.input("x", DataType.FLOAT, "N", IN);
    float[] b1 = new float[HIDDEN];
    b1[STRONG] = 2f; // always active
    String h =
        b.op(
            "Gemm",
            "/fc1/Gemm",
            List.of(
                x,
                b.initializer(TinyCnns.normal("fc1.weight", r, 0.5, HIDDEN, IN)),
                b.floats("fc1.bias", new long[] {HIDDEN}, b1)),
            Attribute.of("transB", 1L));
    h = b.op("Relu", "/fc1/Relu", List.of(h));
    float[] w2 = TinyCnns.normal("", r, 0.5, CLASSES, HIDDEN).toFloatArray();
    for (int c = 0; c < CLASSES; c++) {
      w2[c * HIDDEN + DEAD] = 0f;
      w2[c * HIDDEN + STRONG] *= 20f;
    }
    b.nodeTo(
        "",
        "Gemm",
        "/fc2/Gemm",
        List.of(h, b.floats("fc2.weight", new long[] {CLASSES, HIDDEN}, w2)),
        List.of("logits"),
        Attribute.of("transB", 1L));
    b.output("logits", DataType.FLOAT, "N", CLASSES);
    return b.build();
  }

  static CalibrationSet data(boolean labels) {
    Random r = new Random(9);
    List<Map<String, Tensor>> batches = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      long[] y = new long[4];
      for (int k = 0; k < y.length; k++) {
        y[k] = r.nextInt(CLASSES);
      }
      Tensor x = TinyCnns.normal("x", r, 1, 4, IN);
      batches.add(
          labels
              ? Map.of("x", x, "labels", Tensor.ofLongs("labels", new long[] {4}, y))
              : Map.of("x", x));
    }
    return new CalibrationSet(
        batches, new CalibrationIdentity("test", "tensors", 8, 0, 0, false, "0"));
  }

  @Test
  void aUnitWithZeroOutgoingWeightsScoresExactlyZeroAndADominantOneRanksFirst() throws Exception {
    ModelGraph m = mlp();
    List<DependencyGroup> groups = DependencyGroups.of(m).groups();
    assertThat(groups).hasSize(1);
    for (boolean labels : new boolean[] {true, false}) {
      for (boolean fisher : new boolean[] {true, false}) {
        double[] s = GradientScores.of(m, groups, data(labels), fisher, 1).get(0);
        System.out.printf(
            "[structured] %s %s: %s%n",
            fisher ? "fisher" : "taylor",
            labels ? "labels" : "sampled",
            java.util.Arrays.toString(s));
        assertThat(s[DEAD]).as("dead neuron, fisher %s labels %s", fisher, labels).isEqualTo(0.0);
        if (fisher || labels) { // the sampled Taylor sum is noise around 0 by construction
          assertThat(BudgetSearch.ranked(s)[0]).isEqualTo(STRONG);
        }
        for (int u = 0; u < s.length; u++) {
          if (u != DEAD) {
            assertThat(s[u]).isGreaterThan(0);
          }
        }
      }
    }
  }

  /** {@code rows} split into batches of {@code sizes} rows (labels too). */
  static CalibrationSet split(CalibrationSet cal, int... sizes) {
    List<float[]> xs = new ArrayList<>();
    List<Long> ys = new ArrayList<>();
    for (Map<String, Tensor> b : cal.batches()) {
      float[] x = b.get("x").toFloatArray();
      long[] y = b.get("labels").toLongArray();
      for (int i = 0; i < y.length; i++) {
        xs.add(java.util.Arrays.copyOfRange(x, i * IN, (i + 1) * IN));
        ys.add(y[i]);
      }
    }
    List<Map<String, Tensor>> out = new ArrayList<>();
    int at = 0;
    for (int n : sizes) {
      float[] x = new float[n * IN];
      long[] y = new long[n];
      for (int i = 0; i < n; i++) {
        System.arraycopy(xs.get(at + i), 0, x, i * IN, IN);
        y[i] = ys.get(at + i);
      }
      at += n;
      out.add(
          Map.of(
              "x", Tensor.ofFloats("x", new long[] {n, IN}, x),
              "labels", Tensor.ofLongs("labels", new long[] {n}, y)));
    }
    return new CalibrationSet(out, cal.identity());
  }

  @Test
  void batchedPaddedGradientsEqualOneExampleAtATime() throws Exception {
    ModelGraph m = mlp();
    List<DependencyGroup> groups = DependencyGroups.of(m).groups();
    CalibrationSet cal = data(true);
    double[] batched = GradientScores.of(m, groups, split(cal, 5, 3), true, 1).get(0);
    double[] single =
        GradientScores.of(m, groups, split(cal, 1, 1, 1, 1, 1, 1, 1, 1), true, 1).get(0);
    for (int u = 0; u < HIDDEN; u++) {
      assertThat(batched[u])
          .isCloseTo(single[u], org.assertj.core.data.Offset.offset(1e-5 * (1 + single[u])));
    }
  }

  @Test
  void cnnChannelsWithZeroOutgoingWeightsScoreZero() throws Exception {
    ModelGraph m = TinyCnns.plain(3);
    Tensor w = m.graph().initializers().get("conv2.weight"); // [6, 8, 3, 3]
    float[] v = w.toFloatArray();
    for (int o = 0; o < 6; o++) {
      java.util.Arrays.fill(v, (o * 8 + 3) * 9, (o * 8 + 4) * 9, 0f); // conv1 channel 3
    }
    m.graph().putInitializer(Tensor.ofFloats(w.name(), w.shape(), v));
    Tensor fc = m.graph().initializers().get("fc.weight"); // [5, 24]
    float[] f = fc.toFloatArray();
    for (int c = 0; c < 5; c++) {
      java.util.Arrays.fill(f, c * 24 + 4, c * 24 + 8, 0f); // conv2 channel 1 (features 4..7)
    }
    m.graph().putInitializer(Tensor.ofFloats(fc.name(), fc.shape(), f));
    List<DependencyGroup> groups = DependencyGroups.of(m).groups();
    List<Map<String, Tensor>> b = List.of(TinyCnns.images(1, 3), TinyCnns.images(2, 3));
    CalibrationSet cal =
        new CalibrationSet(b, new CalibrationIdentity("test", "images", 6, 0, 0, false, "0"));
    assertThat(groups.get(0).sources().get(0).name()).isEqualTo("/conv1/Conv");
    assertThat(groups.get(1).sources().get(0).name()).isEqualTo("/conv2/Conv");
    List<double[]> s = GradientScores.of(m, groups, cal, true, 4);
    assertThat(s.get(0)[3]).isEqualTo(0.0);
    assertThat(s.get(1)[1]).isEqualTo(0.0);
    assertThat(java.util.Arrays.stream(s.get(0)).filter(x -> x > 0).count()).isEqualTo(7);
  }

  @Test
  void aTeacherGivesTheDistillationLossAndOnlyGradientScoresTakeOne(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
    ModelGraph teacher = mlp();
    Tensor w = teacher.graph().initializers().get("fc2.weight");
    float[] v = w.toFloatArray();
    for (int i = 0; i < v.length; i++) {
      v[i] += 0.3f * (float) Math.sin(i);
    }
    teacher.graph().putInitializer(Tensor.ofFloats(w.name(), w.shape(), v));
    java.nio.file.Path file = tmp.resolve("teacher.onnx");
    dev.compress.api.io.onnx.OnnxWriter.write(teacher, file);
    ModelGraph m = mlp();
    List<DependencyGroup> groups = DependencyGroups.of(m).groups();
    double[] s =
        GradientScores.of(
                m, groups, data(false), true, 1, dev.compress.api.io.onnx.OnnxReader.read(file))
            .get(0);
    assertThat(s[DEAD]).isEqualTo(0.0);
    assertThat(BudgetSearch.ranked(s)[0]).isEqualTo(STRONG);

    PassContext ctx =
        new PassContext(0, Optional.of(data(false)), Optional.empty(), ProgressListener.NONE);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                new StructuredPruningPass(
                        StructuredPruningConfig.builder()
                            .importance(StructuredPruningConfig.Importance.ACTIVATION)
                            .teacher(file.toString())
                            .build())
                    .apply(mlp(), ctx))
        .isInstanceOf(dev.compress.api.ConfigException.class)
        .hasMessageContaining(
            "teacher applies to importance taylor or fisher, found importance activation");
  }

  @Test
  void taylorWithLabelsPrunesCnnChannelsEndToEnd() throws Exception {
    ModelGraph m = TinyCnns.plain(6);
    List<Map<String, Tensor>> batches = new ArrayList<>();
    Random r = new Random(2);
    for (int i = 0; i < 2; i++) {
      long[] y = new long[4];
      for (int k = 0; k < 4; k++) {
        y[k] = r.nextInt(TinyCnns.CLASSES);
      }
      Map<String, Tensor> b = new java.util.HashMap<>(TinyCnns.images(20 + i, 4));
      b.put("labels", Tensor.ofLongs("labels", new long[] {4}, y));
      batches.add(b);
    }
    CalibrationSet cal =
        new CalibrationSet(batches, new CalibrationIdentity("test", "images", 8, 0, 0, false, "0"));
    PassReport rep =
        new StructuredPruningPass(
                StructuredPruningConfig.builder()
                    .units(DependencyGroup.Kind.CHANNELS)
                    .budget(StructuredPruningConfig.Budget.PARAMS)
                    .importance(StructuredPruningConfig.Importance.TAYLOR)
                    .rescale(StructuredPruningConfig.Rescale.NONE)
                    .kept(0.6)
                    .build())
            .apply(
                m, new PassContext(0, Optional.of(cal), Optional.empty(), ProgressListener.NONE));
    assertThat(rep.metrics().get("channels_removed")).isPositive();
    assertThat(rep.metrics().get("params_removed")).isPositive();
    try (var ort =
        dev.compress.runtime.ort.OrtExecutor.builder().setModel(m).optIntraOpThreads(1).build()) {
      assertThat(ort.forward(TinyCnns.images(3, 2)).get("logits").shape()).containsExactly(2, 5);
    }
  }

  @Test
  void fisherImportanceInThePassRemovesTheDeadNeuronAndRunsOnAnEncoder() throws Exception {
    ModelGraph m = mlp();
    PassContext ctx =
        new PassContext(0, Optional.of(data(true)), Optional.empty(), ProgressListener.NONE);
    new StructuredPruningPass(
            StructuredPruningConfig.builder()
                .importance(StructuredPruningConfig.Importance.FISHER)
                .rescale(StructuredPruningConfig.Rescale.NONE)
                .kept(1.0)
                .removed(Map.of("/fc2/Gemm", 0.125))
                .build())
        .apply(m, ctx);
    Tensor b1 = m.graph().constant("fc1.bias").orElseThrow();
    assertThat(b1.shape()).containsExactly(HIDDEN - 1);
    assertThat(b1.toFloatArray()[STRONG - 1]).isEqualTo(2f); // neuron 5 kept, 2 gone before it

    ModelGraph enc = ExportedEncoder.build(7, true);
    List<Map<String, Tensor>> batches =
        List.of(
            StructuredPruningPassTest.batch(100, 2, 6), StructuredPruningPassTest.batch(101, 2, 6));
    PassContext ectx =
        new PassContext(
            0,
            Optional.of(
                new CalibrationSet(
                    batches, new CalibrationIdentity("test", "tensors", 4, 6, 0, false, "0"))),
            Optional.empty(),
            ProgressListener.NONE);
    PassReport rep =
        new StructuredPruningPass(
                StructuredPruningConfig.builder()
                    .importance(StructuredPruningConfig.Importance.FISHER)
                    .kept(0.6)
                    .build())
            .apply(enc, ectx);
    assertThat(rep.metrics().get("linear_flops_kept_fraction")).isLessThanOrEqualTo(0.6);
    assertThat(rep.metrics().get("heads_removed") + rep.metrics().get("neurons_removed"))
        .isPositive();
  }
}
