package dev.compress.quantization.rtn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.TinyModels;
import dev.compress.quantization.grid.Granularity;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The quantized two-layer MLP, written as ONNX and run in ONNX Runtime, against the same graph with
 * float weights dequantized in Java from the integers stored in the written file: agreement proves
 * that ONNX Runtime executes exactly the stored integers with the layout we believe.
 */
class RtnOrtTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "Gemm transB=0, int{0}")
  @org.junit.jupiter.params.provider.ValueSource(ints = {4, 8})
  void gemmWithoutTransposeToo(int bits) throws Exception {
    Granularity gran = bits == 4 ? Granularity.PER_GROUP : Granularity.PER_CHANNEL;
    ModelGraph model = TinyModels.mlp(14, 64, 96, 16, 5, false);
    new RtnPass(
            RtnConfig.builder().bits(bits).granularity(gran).groupSize(32).symmetric(false).build())
        .apply(model, PassContext.of(1));
    Path file = tmp.resolve("gemm.onnx");
    OnnxWriter.write(model, file);
    ModelGraph back = OnnxReader.read(file);
    ModelGraph ref = TinyModels.mlp(14, 64, 96, 16, 5, false);
    ref.graph()
        .putInitializer(
            Tensor.ofFloats(
                "W1",
                new long[] {64, 96},
                StoredWeights.dequantized(back, TinyModels.MLP_FC1, false)));
    ref.graph()
        .putInitializer(
            Tensor.ofFloats(
                "W2",
                new long[] {96, 16},
                StoredWeights.dequantized(back, TinyModels.MLP_FC2, false)));
    Tensor x = TinyModels.mlpInput(3, 4, 64);
    try (OrtExecutor q = OrtExecutor.builder().setModelPath(file).optIntraOpThreads(1).build();
        OrtExecutor f = OrtExecutor.builder().setModel(ref).optIntraOpThreads(1).build()) {
      assertThat(q.forward(Map.of("x", x)).get("y").toFloatArray())
          .containsExactly(f.forward(Map.of("x", x)).get("y").toFloatArray()); // bit-exact
    }
  }

  static Stream<Arguments> configs() {
    return Stream.of(
        Arguments.of(8, Granularity.PER_CHANNEL, 0, true),
        Arguments.of(8, Granularity.PER_CHANNEL, 0, false),
        Arguments.of(4, Granularity.PER_CHANNEL, 0, true),
        Arguments.of(4, Granularity.PER_CHANNEL, 0, false),
        Arguments.of(4, Granularity.PER_GROUP, 32, true),
        Arguments.of(4, Granularity.PER_GROUP, 64, false),
        Arguments.of(4, Granularity.PER_GROUP, 128, true),
        Arguments.of(4, Granularity.PER_GROUP, 128, false));
  }

  @ParameterizedTest(name = "int{0} {1} g{2} symmetric={3}")
  @MethodSource("configs")
  void ortRunsExactlyTheStoredIntegers(int bits, Granularity gran, int group, boolean sym)
      throws Exception {
    // Per channel: feature counts that are not powers of two, so MatMulNBits pads its one block.
    boolean perChannel = gran == Granularity.PER_CHANNEL;
    int in = perChannel ? 96 : 256;
    int hidden = perChannel ? 160 : 128;
    int out = 24;
    ModelGraph model = TinyModels.mlp(14, in, hidden, out, 7, true);
    RtnConfig cfg =
        RtnConfig.builder().bits(bits).granularity(gran).groupSize(group).symmetric(sym).build();
    PassReport report = new RtnPass(cfg).apply(model, PassContext.of(1));
    assertThat(report.layersTouched()).containsExactly(TinyModels.MLP_FC1, TinyModels.MLP_FC2);
    assertThat(model.graph().initializers()).doesNotContainKeys("W1", "W2");
    assertThat(model.graph().initializers().values())
        .noneMatch(t -> t.dtype() == DataType.FLOAT && t.elementCount() >= (long) out * hidden);

    Path file = tmp.resolve("q.onnx");
    OnnxWriter.write(model, file);
    ModelGraph back = OnnxReader.read(file);
    boolean nbits = !(bits == 8 && perChannel);
    Node fc1 = back.graph().node(TinyModels.MLP_FC1).orElseThrow();
    assertThat(fc1.qualifiedOpType()).isEqualTo(nbits ? "com.microsoft::MatMulNBits" : "MatMul");
    float[] w1 = StoredWeights.dequantized(back, TinyModels.MLP_FC1, false); // [in, hidden]
    float[] w2 = StoredWeights.dequantized(back, TinyModels.MLP_FC2, true); // [out, hidden]

    ModelGraph ref = TinyModels.mlp(14, in, hidden, out, 7, true);
    ref.graph().putInitializer(Tensor.ofFloats("W1", new long[] {in, hidden}, w1));
    ref.graph().putInitializer(Tensor.ofFloats("W2", new long[] {out, hidden}, w2));
    Tensor x = TinyModels.mlpInput(3, 5, in);
    try (OrtExecutor q = OrtExecutor.builder().setModelPath(file).optIntraOpThreads(1).build();
        OrtExecutor f = OrtExecutor.builder().setModel(ref).optIntraOpThreads(1).build()) {
      float[] yq = q.forward(Map.of("x", x)).get("y").toFloatArray();
      float[] yf = f.forward(Map.of("x", x)).get("y").toFloatArray();
      double maxDiff = 0;
      double maxAbs = 0;
      for (int i = 0; i < yq.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(yq[i] - yf[i]));
        maxAbs = Math.max(maxAbs, Math.abs(yf[i]));
      }
      System.out.printf(
          "[rtn-ort] int%d %s g%d sym=%s: max|ort(q) - ort(dequantized)| = %.3g (max|y| %.3g),"
              + " file %d bytes%n",
          bits, gran, group, sym, maxDiff, maxAbs, Files.size(file));
      assertThat(maxDiff)
          .isLessThanOrEqualTo(1e-5 * Math.max(1, maxAbs)); // measured 0 (bit-exact) for all
    }
  }

  /**
   * {@code accuracyLevel: 4} writes MatMulNBits' {@code accuracy_level = 4}. ONNX Runtime loads the
   * file and, where its CPU kernel has int8 compute, quantizes the activations; the DJL executor
   * runs our int8-activation kernel. Both stay within the activation rounding of the float product
   * of the same stored weights, and near each other.
   */
  @org.junit.jupiter.api.Test
  void accuracyLevel4IsWrittenAndBothEnginesRunIt() throws Exception {
    ModelGraph model = TinyModels.mlp(14, 256, 128, 24, 7, true);
    new RtnPass(
            RtnConfig.builder()
                .bits(4)
                .granularity(Granularity.PER_GROUP)
                .groupSize(128)
                .symmetric(true)
                .embeddings(false)
                .clip(ClipMethod.NONE)
                .accuracyLevel(4)
                .build())
        .apply(model, PassContext.of(1));
    Path file = tmp.resolve("int8-compute.onnx");
    OnnxWriter.write(model, file);
    ModelGraph back = OnnxReader.read(file);
    Node fc1 = back.graph().node(TinyModels.MLP_FC1).orElseThrow();
    assertThat(fc1.intAttr("accuracy_level", -1)).isEqualTo(4);

    ModelGraph ref = TinyModels.mlp(14, 256, 128, 24, 7, true);
    ref.graph()
        .putInitializer(
            Tensor.ofFloats(
                "W1",
                new long[] {256, 128},
                StoredWeights.dequantized(back, TinyModels.MLP_FC1, false)));
    ref.graph()
        .putInitializer(
            Tensor.ofFloats(
                "W2",
                new long[] {24, 128},
                StoredWeights.dequantized(back, TinyModels.MLP_FC2, true)));
    Tensor x = TinyModels.mlpInput(3, 5, 256);
    float[] yq;
    float[] yf;
    float[] yd;
    try (OrtExecutor q = OrtExecutor.builder().setModelPath(file).optIntraOpThreads(1).build();
        OrtExecutor f = OrtExecutor.builder().setModel(ref).optIntraOpThreads(1).build();
        dev.compress.runtime.djl.DjlExecutor d =
            dev.compress.runtime.djl.DjlExecutor.create(back)) {
      yq = q.forward(Map.of("x", x)).get("y").toFloatArray();
      yf = f.forward(Map.of("x", x)).get("y").toFloatArray();
      yd = d.forward(Map.of("x", x)).get("y").toFloatArray();
    }
    double maxAbs = 0;
    double ortDiff = 0;
    double djlDiff = 0;
    double between = 0;
    for (int i = 0; i < yf.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(yf[i]));
      ortDiff = Math.max(ortDiff, Math.abs(yq[i] - yf[i]));
      djlDiff = Math.max(djlDiff, Math.abs(yd[i] - yf[i]));
      between = Math.max(between, Math.abs(yd[i] - yq[i]));
    }
    System.out.printf(
        "[rtn-ort] accuracy_level 4: max|ort - float| = %.3g, max|djl - float| = %.3g,"
            + " max|djl - ort| = %.3g (max|y| %.3g)%n",
        ortDiff, djlDiff, between, maxAbs);
    assertThat(djlDiff).as("DJL: int8 activations move the result").isGreaterThan(0);
    assertThat(djlDiff).as("DJL: by the activation rounding only").isLessThan(0.03 * maxAbs);
    assertThat(ortDiff).as("ORT: by the activation rounding at most").isLessThan(0.03 * maxAbs);
    assertThat(between).as("DJL near ORT").isLessThan(0.03 * maxAbs);
  }
}
