package dev.compress.pruning.magnitude;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.TinyModels;
import dev.compress.pruning.magnitude.MagnitudePruningConfig.Scope;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Magnitude pruning on a two-layer MLP built in code, checked exactly and in ONNX Runtime. */
class MagnitudePruningPassTest {
  static final String FC1 = TinyModels.MLP_FC1;
  static final String FC2 = TinyModels.MLP_FC2;
  static final int IN = 64;
  static final int HIDDEN = 48;
  static final int OUT = 16;

  @TempDir Path tmp;

  /**
   * x[batch, 64] -> MatMul W1[64, 48] + b1 -> Relu -> Gemm(W2[16, 48], b2, transB) -> y: the shared
   * {@link TinyModels#mlp} at opset 14, W1 smaller (std 0.05) than W2 (std 0.2).
   */
  static ModelGraph mlp(long seed) {
    return TinyModels.mlp(14, IN, HIDDEN, OUT, seed, true, 0.05f, 0.2f);
  }

  private static long zeros(float[] w) {
    return java.util.stream.IntStream.range(0, w.length).filter(i -> w[i] == 0f).count();
  }

  private static float[] weight(ModelGraph m, String name) {
    return m.graph().constant(name).orElseThrow().toFloatArray();
  }

  @Test
  void perLayerReachesTheSparsityInEveryLayerAndKeepsTheLargest() throws Exception {
    ModelGraph m = mlp(1);
    float[] w1 = weight(m, "W1");
    PassReport r =
        new MagnitudePruningPass(
                MagnitudePruningConfig.builder().sparsity(0.3).scope(Scope.PER_LAYER).build())
            .apply(m, PassContext.of(0));
    float[] p1 = weight(m, "W1");
    float[] p2 = weight(m, "W2");
    assertThat(zeros(p1)).isEqualTo(Math.round(0.3 * IN * HIDDEN)); // 922 of 3072
    assertThat(zeros(p2)).isEqualTo(Math.round(0.3 * OUT * HIDDEN)); // 230 of 768 (230.4)
    // Every kept weight is at least as large as every pruned one, and kept weights are unchanged.
    float maxPruned = 0;
    float minKept = Float.MAX_VALUE;
    for (int i = 0; i < w1.length; i++) {
      if (p1[i] == 0f) {
        maxPruned = Math.max(maxPruned, Math.abs(w1[i]));
      } else {
        minKept = Math.min(minKept, Math.abs(w1[i]));
        assertThat(p1[i]).isEqualTo(w1[i]);
      }
    }
    assertThat(maxPruned).isLessThanOrEqualTo(minKept);
    assertThat(r.layersTouched()).containsExactly(FC1, FC2);
    assertThat(r.bytesAfter())
        .isEqualTo(r.bytesBefore())
        .isEqualTo((IN * HIDDEN + OUT * HIDDEN) * 4);
    assertThat(r.layerMetrics(FC1)).containsEntry("sparsity", 922.0 / 3072);
    assertThat(r.layerMetrics(FC2)).containsEntry("sparsity", 230.0 / 768);
    assertThat(r.metrics())
        .containsEntry("sparsity", 1152.0 / 3840)
        .containsEntry("pruned_weights", 1152.0)
        .containsEntry("bytes_saved", 0.0)
        .containsEntry("stored_dense", 1.0);
  }

  @Test
  void globalUsesOneThresholdSoSmallerLayersLoseMore() throws Exception {
    ModelGraph m = mlp(2);
    float[] w1 = weight(m, "W1");
    float[] w2 = weight(m, "W2");
    PassReport r =
        new MagnitudePruningPass(
                MagnitudePruningConfig.builder().sparsity(0.5).scope(Scope.GLOBAL).build())
            .apply(m, PassContext.of(0));
    long z1 = zeros(weight(m, "W1"));
    long z2 = zeros(weight(m, "W2"));
    assertThat(z1 + z2).isEqualTo(1920); // exactly half of 3840
    assertThat((double) z1 / w1.length).isGreaterThan(0.55); // measured 0.582 (std 0.05)
    assertThat((double) z2 / w2.length).isLessThan(0.2); // measured 0.172 (std 0.2)
    System.out.printf(
        "[magnitude] global 50%%: fc1 %.3f, fc2 %.3f, threshold %.4g%n",
        (double) z1 / w1.length, (double) z2 / w2.length, r.metrics().get("threshold"));
    double t = r.metrics().get("threshold");
    for (float[][] pair : new float[][][] {{w1, weight(m, "W1")}, {w2, weight(m, "W2")}}) {
      for (int i = 0; i < pair[0].length; i++) {
        if (pair[1][i] == 0f) {
          assertThat(Math.abs(pair[0][i])).isLessThanOrEqualTo((float) t);
        } else {
          assertThat(Math.abs(pair[0][i])).isGreaterThanOrEqualTo((float) t);
        }
      }
    }
  }

  @Test
  void tiesAreBrokenByPositionDeterministically() throws Exception {
    ModelGraph m = mlp(3);
    float[] same = new float[IN * HIDDEN];
    Arrays.fill(same, 0.5f);
    same[10] = -0.5f;
    m.graph().putInitializer(Tensor.ofFloats("W1", new long[] {IN, HIDDEN}, same));
    new MagnitudePruningPass(
            MagnitudePruningConfig.builder()
                .targets(FC1)
                .sparsity(0.25)
                .scope(Scope.PER_LAYER)
                .build())
        .apply(m, PassContext.of(0));
    float[] p = weight(m, "W1");
    for (int i = 0; i < p.length; i++) {
      assertThat(p[i] == 0f).as("index %d", i).isEqualTo(i < 768); // the first quarter
    }
  }

  @Test
  void prunedModelRunsInOrtAsTheMaskedReference() throws Exception {
    ModelGraph m = mlp(4);
    float[] w1 = weight(m, "W1");
    float[] w2 = weight(m, "W2");
    new MagnitudePruningPass(
            MagnitudePruningConfig.builder().sparsity(0.6).scope(Scope.GLOBAL).build())
        .apply(m, PassContext.of(0));
    Path file = tmp.resolve("pruned.onnx");
    OnnxWriter.write(m, file);
    ModelGraph back = OnnxReader.read(file);
    float[] p1 = weight(back, "W1");
    float[] p2 = weight(back, "W2");
    assertThat(zeros(p1) + zeros(p2)).isEqualTo(Math.round(0.6 * 3840));
    // Same size on disk: the zeros are stored dense.
    Path dense = tmp.resolve("dense.onnx");
    OnnxWriter.write(mlp(4), dense);
    assertThat(Files.size(file)).isEqualTo(Files.size(dense));

    Tensor x = TinyModels.mlpInput(9, 3, IN);
    float[] xs = x.toFloatArray();
    float[] b1 = weight(back, "b1");
    float[] b2 = weight(back, "b2");
    try (OrtExecutor ort = OrtExecutor.builder().setModelPath(file).optIntraOpThreads(1).build()) {
      float[] y = ort.forward(Map.of("x", x)).get("y").toFloatArray();
      double maxDiff = 0;
      for (int b = 0; b < 3; b++) {
        float[] h = new float[HIDDEN];
        for (int j = 0; j < HIDDEN; j++) {
          double s = b1[j];
          for (int i = 0; i < IN; i++) {
            s += (double) xs[b * IN + i] * (p1[i * HIDDEN + j] == 0f ? 0 : w1[i * HIDDEN + j]);
          }
          h[j] = (float) Math.max(0, s);
        }
        for (int o = 0; o < OUT; o++) {
          double s = b2[o];
          for (int j = 0; j < HIDDEN; j++) {
            s += (double) h[j] * (p2[o * HIDDEN + j] == 0f ? 0 : w2[o * HIDDEN + j]);
          }
          maxDiff = Math.max(maxDiff, Math.abs(s - y[b * OUT + o]));
        }
      }
      System.out.printf("[magnitude] ORT vs masked Java reference: max diff %.2g%n", maxDiff);
      assertThat(maxDiff).isLessThan(1e-5); // measured 1.2e-7 (f32 vs f64 accumulation)
    }
  }

  @Test
  void listsEveryLayerThatCannotBePrunedBeforeChangingAnything() throws Exception {
    ModelGraph m = mlp(5);
    m.graph()
        .putInitializer(
            Tensor.ofBytes("W1", DataType.INT8, new long[] {IN, HIDDEN}, new byte[IN * HIDDEN]));
    m.graph()
        .putInitializer(
            Tensor.ofBytes("W2", DataType.UINT8, new long[] {OUT, HIDDEN}, new byte[OUT * HIDDEN]));
    assertThatThrownBy(
            () ->
                new MagnitudePruningPass(
                        MagnitudePruningConfig.builder()
                            .sparsity(0.5)
                            .scope(Scope.PER_LAYER)
                            .build())
                    .apply(m, PassContext.of(0)))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "layer '/fc1/MatMul': weight W1 is INT8; magnitude pruning needs a"
                            + " floating-point weight (prune before quantizing)",
                        "layer '/fc2/Gemm': weight W2 is UINT8; magnitude pruning needs a"
                            + " floating-point weight (prune before quantizing)"));
    assertThat(m.graph().initializers().get("W1").dtype()).isEqualTo(DataType.INT8);
    assertThatThrownBy(
            () ->
                new MagnitudePruningPass(
                        MagnitudePruningConfig.builder()
                            .targets("re:/fc9/.*")
                            .sparsity(0.5)
                            .scope(Scope.GLOBAL)
                            .build())
                    .apply(mlp(5), PassContext.of(0)))
        .hasMessage("targets[0] 're:/fc9/.*' matches no linear layer");
  }

  @Test
  void halfPrecisionAndConstantNodeAndSharedWeights() throws Exception {
    // W1 as f16 inside a Constant node, also read by an unselected Identity; W2 stays f32.
    ModelGraph m = mlp(6);
    Graph g = m.graph();
    float[] w1 = g.initializers().remove("W1").toFloatArray();
    ByteBuffer half = ByteBuffer.allocate(w1.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : w1) {
      half.putShort(Float.floatToFloat16(v));
    }
    half.flip();
    Tensor t = Tensor.of("W1", DataType.FLOAT16, new long[] {IN, HIDDEN}, half);
    g.nodes()
        .add(0, Node.of("c", "Constant", List.of(), List.of("W1")).put(Attribute.of("value", t)));
    g.nodes().add(Node.of("/keep", "Identity", List.of("W1"), List.of("w1copy")));
    g.outputs().add(ValueInfo.tensor("w1copy", DataType.FLOAT16, null));
    new MagnitudePruningPass(
            MagnitudePruningConfig.builder().sparsity(0.5).scope(Scope.PER_LAYER).build())
        .apply(m, PassContext.of(0));
    Node fc1 = g.node(FC1).orElseThrow();
    assertThat(fc1.input(1)).isEqualTo("W1_pruned");
    Tensor pruned = g.initializers().get("W1_pruned");
    assertThat(pruned.dtype()).isEqualTo(DataType.FLOAT16);
    assertThat(zeros(pruned.toFloatArray())).isEqualTo(IN * HIDDEN / 2);
    assertThat(zeros(g.constant("W1").orElseThrow().toFloatArray())).isZero(); // untouched
    assertThat(zeros(weight(m, "W2"))).isEqualTo(OUT * HIDDEN / 2);
  }
}
