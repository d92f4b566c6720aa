package dev.compress.runtime.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import dev.compress.api.exec.Device;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import dev.compress.training.GradientRecording;
import dev.compress.training.Parameter;
import dev.compress.training.ParameterSelection;
import dev.compress.training.TensorNd;
import dev.compress.training.TrainableModel;
import dev.compress.training.data.TensorExamples;
import dev.compress.training.loop.StepLoss;
import dev.compress.training.loop.TrainConfig;
import dev.compress.training.loop.TrainResult;
import dev.compress.training.loop.Trainer;
import dev.compress.training.loop.TrainingDivergedException;
import dev.compress.training.loop.TrainingHook;
import dev.compress.training.loop.Validation;
import dev.compress.training.loss.Losses;
import dev.compress.training.optim.GradClip;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop on the trainable interpreter, on tiny seeded MLPs. */
class TrainerTest {

  /** x[n,4] -> MatMul 4x8 + b -> Tanh -> MatMul 8xout + b -> y. */
  static ModelGraph mlp(long seed, int out) {
    return TestGraphs.opset(17)
        .input("x", DataType.FLOAT, -1, 4)
        .init(scaled(TestGraphs.randomTensor("w1", seed, 4, 8), 1))
        .init(scaled(TestGraphs.randomTensor("b1", seed + 1, 8), 0.1f))
        .init(scaled(TestGraphs.randomTensor("w2", seed + 2, 8, out), 0.5f))
        .init(scaled(TestGraphs.randomTensor("b2", seed + 3, out), 0.1f))
        .node("MatMul", List.of("x", "w1"), List.of("a"))
        .node("Add", List.of("a", "b1"), List.of("b"))
        .node("Tanh", List.of("b"), List.of("c"))
        .node("MatMul", List.of("c", "w2"), List.of("d"))
        .node("Add", List.of("d", "b2"), List.of("y"))
        .output("y", DataType.FLOAT)
        .build();
  }

  static Tensor scaled(Tensor t, float s) {
    float[] v = t.toFloatArray();
    for (int i = 0; i < v.length; i++) {
      v[i] *= s;
    }
    return Tensor.ofFloats(t.name(), t.shape(), v);
  }

  /** 64 inputs and the outputs of a teacher MLP of another seed. */
  static TensorExamples regressionData() throws Exception {
    Tensor x = TestGraphs.randomTensor("x", 100, 64, 4);
    Tensor y;
    try (DjlExecutor teacher = DjlExecutor.create(mlp(50, 2))) {
      y = teacher.forward(Map.of("x", x)).get("y").withName("target");
    }
    return TensorExamples.of(Map.of("x", x, "target", y));
  }

  static final StepLoss MSE =
      (model, nd, batch) ->
          Losses.mse(model.forward(nd, Map.of("x", batch.get("x"))).get("y"), batch.get("target"));

  static double fullLoss(DjlTrainableModel m, TensorExamples data) throws Exception {
    int[] all = java.util.stream.IntStream.range(0, data.size()).toArray();
    try (var nd = m.newManager()) {
      Map<String, NDArray> b = new java.util.HashMap<>();
      data.batch(all).forEach((k, v) -> b.put(k, TensorNd.toNd(v, nd)));
      return MSE.loss(m, nd, b).getFloat();
    }
  }

  static TrainConfig.Builder small() {
    return TrainConfig.builder()
        .optSteps(60)
        .optBatchSize(16)
        .optLr(1e-2)
        .optWarmup(0.1)
        .optSeed(7);
  }

  static Map<String, Tensor> train(TrainConfig cfg, TensorExamples data) throws Exception {
    try (DjlTrainableModel m =
        DjlTrainableModel.create(mlp(1, 2), ParameterSelection.all(), Device.CPU)) {
      new Trainer(cfg, null).fit(m, data, MSE);
      return m.parameterValues();
    }
  }

  static void assertSame(Map<String, Tensor> a, Map<String, Tensor> b, double tol) {
    assertThat(a.keySet()).containsExactlyElementsOf(b.keySet());
    for (String k : a.keySet()) {
      double d = TestGraphs.maxAbsDiff(a.get(k), b.get(k));
      System.out.printf("[trainer] %s max|diff| = %.3g%n", k, d);
      assertThat(d).as(k).isLessThanOrEqualTo(tol);
    }
  }

  @Test
  void convergesOnATinyRegression() throws Exception {
    TensorExamples data = regressionData();
    try (DjlTrainableModel m =
        DjlTrainableModel.create(mlp(1, 2), ParameterSelection.all(), Device.CPU)) {
      double before = fullLoss(m, data);
      int resident = m.residentArrayCount();
      TrainResult r = new Trainer(small().optSteps(200).build(), null).fit(m, data, MSE);
      assertThat(m.residentArrayCount()).as("native arrays after 200 steps").isEqualTo(resident);
      double after = fullLoss(m, data);
      System.out.printf(
          "[trainer] regression MSE %.4g -> %.4g in %d steps%n", before, after, r.steps());
      assertThat(r.steps()).isEqualTo(200);
      assertThat(after).isLessThan(before * 0.05); // measured 0.380 -> 0.0058 (1.5%)
    }
  }

  @Test
  void convergesOnATinyClassificationWithSgd() throws Exception {
    // Labels: the argmax of a 3-class teacher.
    Tensor x = TestGraphs.randomTensor("x", 200, 96, 4);
    float[] t;
    try (DjlExecutor teacher = DjlExecutor.create(mlp(60, 3))) {
      t = teacher.forward(Map.of("x", x)).get("y").toFloatArray();
    }
    long[] labels = new long[96];
    for (int i = 0; i < 96; i++) {
      int best = 0;
      for (int c = 1; c < 3; c++) {
        best = t[i * 3 + c] > t[i * 3 + best] ? c : best;
      }
      labels[i] = best;
    }
    TensorExamples data =
        TensorExamples.of(
            Map.of("x", x, "labels", Tensor.ofLongs("labels", new long[] {96}, labels)));
    StepLoss ce =
        (model, nd, b) ->
            Losses.crossEntropy(
                model.forward(nd, Map.of("x", b.get("x"))).get("y"), b.get("labels"));
    try (DjlTrainableModel m =
        DjlTrainableModel.create(mlp(2, 3), ParameterSelection.all(), Device.CPU)) {
      Validation accuracy =
          Validation.maximizing(
              model -> {
                try (var nd = model.newManager()) {
                  NDArray y = model.forward(nd, Map.of("x", TensorNd.toNd(x, nd))).get("y");
                  long[] pred = y.argMax(1).toLongArray();
                  int ok = 0;
                  for (int i = 0; i < pred.length; i++) {
                    ok += pred[i] == labels[i] ? 1 : 0;
                  }
                  return ok / 96.0;
                }
              });
      double before = accuracy.evaluate(m);
      TrainConfig cfg =
          small()
              .optOptimizer("sgd")
              .optLr(0.3)
              .optMomentum(0.9)
              .optSteps(150)
              .optEvalEvery(25)
              .build();
      TrainResult r = new Trainer(cfg, null).fit(m, data, ce, Optional.of(accuracy));
      double after = accuracy.evaluate(m);
      System.out.printf(
          "[trainer] classification accuracy %.3f -> %.3f (best %s at %d)%n",
          before, after, r.bestMetric(), r.bestStep());
      assertThat(after).isGreaterThanOrEqualTo(0.9); // measured 0.990
      assertThat(after).isEqualTo(r.bestMetric().getAsDouble()); // the best parameters restored
    }
  }

  @Test
  void progressReportsStepLossValidationAndEta() throws Exception {
    TensorExamples data = regressionData();
    List<String> items = new java.util.ArrayList<>();
    dev.compress.api.pass.ProgressListener listener =
        new dev.compress.api.pass.ProgressListener() {
          @Override
          public void step(String pass, int done, int total, String item) {
            items.add(pass + " " + done + "/" + total + " " + item);
          }
        };
    try (DjlTrainableModel m =
        DjlTrainableModel.create(mlp(1, 2), ParameterSelection.all(), Device.CPU)) {
      new Trainer(small().optSteps(4).optEvalEvery(2).build(), listener)
          .fit(m, data, MSE, Optional.of(model -> 1.0));
    }
    assertThat(items).hasSize(4);
    assertThat(items.get(0)).matches("train 1/4 loss \\S+ lr \\S+ ETA \\d+m\\d\\ds");
    assertThat(items.get(3)).matches("train 4/4 loss \\S+ lr \\S+ val 1\\.0+ ETA 0m00s");
  }

  @Test
  void clippingEqualsItsFormula() throws Exception {
    TensorExamples data = regressionData();
    try (DjlTrainableModel m =
            DjlTrainableModel.create(mlp(1, 2), ParameterSelection.all(), Device.CPU);
        var nd = m.newManager()) {
      Map<String, NDArray> b = new java.util.HashMap<>();
      data.batch(new int[] {0, 1, 2, 3}).forEach((k, v) -> b.put(k, TensorNd.toNd(v, nd)));
      try (GradientRecording rec = m.recordGradients()) {
        rec.backward(MSE.loss(m, nd, b).mul(100));
      }
      List<float[]> before = m.parameters().stream().map(p -> p.gradient().toFloatArray()).toList();
      double sq = 0;
      for (float[] g : before) {
        for (float v : g) {
          sq += (double) v * v;
        }
      }
      double norm = Math.sqrt(sq);
      double max = norm / 3;
      double reported = GradClip.clipGlobalNorm(m.parameters(), max);
      assertThat(reported).isCloseTo(norm, org.assertj.core.data.Offset.offset(norm * 1e-6));
      double scale = max / (norm + 1e-6);
      for (int i = 0; i < before.size(); i++) {
        float[] after = m.parameters().get(i).gradient().toFloatArray();
        for (int j = 0; j < after.length; j++) {
          assertThat((double) after[j])
              .isCloseTo(
                  before.get(i)[j] * scale,
                  org.assertj.core.data.Offset.offset(1e-6 * Math.abs(before.get(i)[j]) + 1e-9));
        }
      }
      assertThat(GradClip.globalNorm(m.parameters()))
          .isCloseTo(max, org.assertj.core.data.Offset.offset(max * 1e-5));
      // Below the bound nothing changes.
      assertThat(GradClip.clipGlobalNorm(m.parameters(), max * 10))
          .isCloseTo(max, org.assertj.core.data.Offset.offset(max * 1e-5));
    }
  }

  @Test
  void normOfLargeFiniteGradientsIsFiniteAndNonFiniteOnesAreNamed() throws Exception {
    try (DjlTrainableModel m =
            DjlTrainableModel.create(mlp(1, 2), ParameterSelection.all(), Device.CPU);
        var nd = m.newManager()) {
      Map<String, NDArray> b = new java.util.HashMap<>();
      regressionData().batch(new int[] {0, 1}).forEach((k, v) -> b.put(k, TensorNd.toNd(v, nd)));
      try (GradientRecording rec = m.recordGradients()) {
        rec.backward(MSE.loss(m, nd, b));
      }
      List<Parameter> ps = m.parameters();
      // 3e20 is a finite float32 whose square is not: the norm must still be 3e20 * sqrt(count).
      try (NDArray g = ps.get(0).gradient()) {
        g.muli(0f).addi(3e20f);
      }
      for (int i = 1; i < ps.size(); i++) {
        try (NDArray g = ps.get(i).gradient()) {
          g.muli(0f);
        }
      }
      double expected = 3e20 * Math.sqrt(ps.get(0).size());
      assertThat(GradClip.globalNorm(ps))
          .isCloseTo(expected, org.assertj.core.data.Offset.offset(expected * 1e-6));
      assertThat(GradClip.firstNonFinite(ps)).isEmpty();
      try (NDArray g = ps.get(1).gradient()) {
        g.muli(0f).addi(Float.NaN);
      }
      assertThat(GradClip.globalNorm(ps)).isNaN();
      assertThat(GradClip.firstNonFinite(ps)).contains(ps.get(1).name());
    }
  }

  @Test
  void accumulatingMicroBatchesEqualsOneBigBatch() throws Exception {
    TensorExamples data = regressionData();
    TrainConfig big =
        small().optSteps(2).optBatchSize(32).optAccumulation(1).optClipNorm(0).build();
    TrainConfig acc = big.toBuilder().optBatchSize(8).optAccumulation(4).build();
    assertSame(train(big, data), train(acc, data), 2e-6); // measured about 2e-7
  }

  @Test
  void sameSeedSameWeightsAndAnotherSeedDiffers() throws Exception {
    TensorExamples data = regressionData();
    TrainConfig cfg = small().optSteps(20).build();
    Map<String, Tensor> a = train(cfg, data);
    assertSame(a, train(cfg, data), 0);
    Map<String, Tensor> c = train(cfg.toBuilder().optSeed(8).build(), data);
    assertThat(TestGraphs.maxAbsDiff(a.get("w1"), c.get("w1"))).isGreaterThan(1e-4);
  }

  @Test
  void resumingFromACheckpointEqualsAnUninterruptedRun(@TempDir Path dir) throws Exception {
    TensorExamples data = regressionData();
    TrainConfig cfg = small().optSteps(12).optCheckpointEvery(5).build();
    Map<String, Tensor> straight = train(cfg, data);

    Path ck = dir.resolve("run");
    AtomicInteger calls = new AtomicInteger();
    StepLoss dies =
        (model, nd, b) -> {
          if (calls.incrementAndGet() > 7) {
            throw new IllegalStateException("interrupted");
          }
          return MSE.loss(model, nd, b);
        };
    try (DjlTrainableModel m =
        DjlTrainableModel.create(mlp(1, 2), ParameterSelection.all(), Device.CPU)) {
      Trainer t = new Trainer(cfg.toBuilder().optCheckpointDir(ck).build(), null);
      assertThatThrownBy(() -> t.fit(m, data, dies)).hasMessageContaining("interrupted");
    }
    assertThat(Files.isDirectory(ck.resolve("checkpoint"))).isTrue();
    try (DjlTrainableModel m =
        DjlTrainableModel.create(mlp(1, 2), ParameterSelection.all(), Device.CPU)) {
      TrainResult r =
          new Trainer(cfg.toBuilder().optCheckpointDir(ck).build(), null).fit(m, data, MSE);
      assertThat(r.startStep()).isEqualTo(5);
      assertThat(r.steps()).isEqualTo(12);
      assertSame(straight, m.parameterValues(), 0);
    }
  }

  @Test
  void aNanLossStopsNamingTheUpdateAndKeepsTheLastGoodCheckpoint(@TempDir Path dir)
      throws Exception {
    TensorExamples data = regressionData();
    AtomicInteger calls = new AtomicInteger();
    StepLoss poisoned =
        (model, nd, b) -> {
          NDArray l = MSE.loss(model, nd, b);
          return calls.incrementAndGet() == 4 ? l.mul(Float.NaN) : l;
        };
    TrainConfig cfg = small().optSteps(10).optCheckpointEvery(2).optCheckpointDir(dir).build();
    try (DjlTrainableModel m =
        DjlTrainableModel.create(mlp(1, 2), ParameterSelection.all(), Device.CPU)) {
      assertThatThrownBy(() -> new Trainer(cfg, null).fit(m, data, poisoned))
          .isInstanceOf(TrainingDivergedException.class)
          .hasMessageContaining("diverged at update 4")
          .hasMessageContaining("last good checkpoint (update 2)")
          .satisfies(e -> assertThat(((TrainingDivergedException) e).step()).isEqualTo(4));
    }
    assertThat(Files.isRegularFile(dir.resolve("checkpoint/parameters.safetensors"))).isTrue();
  }

  @Test
  void earlyStopKeepsTheBestParameters(@TempDir Path dir) throws Exception {
    TensorExamples data = regressionData();
    double[] script = {1.0, 0.5, 0.7, 0.8, 0.9, 0.95};
    AtomicInteger evals = new AtomicInteger();
    Map<String, Tensor>[] atBest = new Map[1];
    Validation v =
        model -> {
          int i = evals.getAndIncrement();
          if (i == 1) {
            atBest[0] = model.parameterValues();
          }
          return script[i];
        };
    TrainConfig cfg =
        small().optSteps(6).optEvalEvery(1).optPatience(2).optCheckpointDir(dir).build();
    try (DjlTrainableModel m =
        DjlTrainableModel.create(mlp(1, 2), ParameterSelection.all(), Device.CPU)) {
      TrainResult r = new Trainer(cfg, null).fit(m, data, MSE, Optional.of(v));
      assertThat(r.earlyStopped()).isTrue();
      assertThat(r.steps()).isEqualTo(4);
      assertThat(r.bestStep()).isEqualTo(2);
      assertThat(r.bestMetric().getAsDouble()).isEqualTo(0.5);
      assertThat(r.restoredBest()).isTrue();
      assertSame(atBest[0], m.parameterValues(), 0);
    }
    assertThat(Files.isRegularFile(dir.resolve("best/parameters.safetensors"))).isTrue();
  }

  @Test
  void writeBackKeepsFloat16() throws Exception {
    ModelGraph g = mlp(1, 2);
    Tensor w = g.graph().initializers().get("w2");
    float[] v = w.toFloatArray();
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(v.length * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putShort(Float.floatToFloat16(f));
    }
    b.flip();
    g.graph().putInitializer(Tensor.of("w2", DataType.FLOAT16, w.shape(), b));
    // The float16 weight meets float32 activations: cast them at its MatMul.
    g.graph().nodes().get(3).inputs().set(0, "c16");
    g.graph()
        .nodes()
        .add(
            3,
            new dev.compress.api.graph.Node("/cast16", "Cast", "", List.of("c"), List.of("c16")));
    g.graph().nodes().get(3).put(dev.compress.api.graph.Attribute.of("to", 10L));
    g.graph()
        .nodes()
        .add(
            5,
            new dev.compress.api.graph.Node("/cast32", "Cast", "", List.of("d16"), List.of("d")));
    g.graph().nodes().get(5).put(dev.compress.api.graph.Attribute.of("to", 1L));
    g.graph().nodes().get(4).outputs().set(0, "d16");
    TensorExamples data = regressionData();
    try (DjlTrainableModel m = DjlTrainableModel.create(g, ParameterSelection.all(), Device.CPU)) {
      Parameter p =
          m.parameters().stream().filter(q -> q.name().equals("w2")).findFirst().orElseThrow();
      assertThat(p.storedType()).isEqualTo(DataType.FLOAT16);
      new Trainer(small().optSteps(5).build(), null).fit(m, data, MSE);
      m.writeTo(g);
    }
    Tensor written = g.graph().initializers().get("w2");
    assertThat(written.dtype()).isEqualTo(DataType.FLOAT16);
    assertThat(TestGraphs.maxAbsDiff(written, w)).isGreaterThan(1e-5); // measured 3e-4
  }

  @Test
  void aHookIsCalledAroundEachUpdateAddsItsPenaltyAndGatesValidation() throws Exception {
    TensorExamples data = regressionData();
    List<String> calls = new java.util.ArrayList<>();
    AtomicInteger evals = new AtomicInteger();
    TrainingHook hook =
        new TrainingHook() {
          @Override
          public void start(TrainableModel model, long steps) {
            calls.add("start " + steps);
          }

          @Override
          public void beforeUpdate(TrainableModel model, long update) {
            calls.add("before " + update);
          }

          @Override
          public NDArray penalty(TrainableModel model, ai.djl.ndarray.NDManager nd) {
            return nd.create(5f); // a constant: no gradient, the loss shifts by exactly 5
          }

          @Override
          public void afterUpdate(TrainableModel model, long update) {
            Parameter w1 = model.parameters().get(0);
            try (NDArray g = w1.gradient()) {
              calls.add("after " + update + (g.abs().sum().getFloat() > 0 ? " grad" : " zero"));
            }
          }

          @Override
          public boolean validates(long update) {
            return update >= 4;
          }
        };
    Validation v = model -> 10.0 - evals.incrementAndGet(); // improving: the last state is kept
    TrainConfig cfg = small().optSteps(6).optEvalEvery(1).build();
    TrainResult plain;
    Map<String, Tensor> plainParams;
    try (DjlTrainableModel m =
        DjlTrainableModel.create(mlp(1, 2), ParameterSelection.all(), Device.CPU)) {
      plain = new Trainer(cfg, null).fit(m, data, MSE);
      plainParams = m.parameterValues();
    }
    try (DjlTrainableModel m =
        DjlTrainableModel.create(mlp(1, 2), ParameterSelection.all(), Device.CPU)) {
      TrainResult r = new Trainer(cfg, null).withHook(hook).fit(m, data, MSE, Optional.of(v));
      assertThat(calls)
          .containsExactly(
              "start 6",
              "before 1",
              "after 1 grad",
              "before 2",
              "after 2 grad",
              "before 3",
              "after 3 grad",
              "before 4",
              "after 4 grad",
              "before 5",
              "after 5 grad",
              "before 6",
              "after 6 grad");
      assertThat(evals.get()).isEqualTo(3); // updates 4, 5, 6
      for (int i = 0; i < 6; i++) {
        assertThat(r.history().get(i).loss() - plain.history().get(i).loss())
            .isCloseTo(5.0, org.assertj.core.data.Offset.offset(1e-5));
      }
      assertSame(plainParams, m.parameterValues(), 0);
    }
  }
}
