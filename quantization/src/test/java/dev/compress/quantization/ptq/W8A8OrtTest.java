package dev.compress.quantization.ptq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.OrtCpu;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Static and dynamic W8A8 on a small block: what is written, that ORT fuses it, and its error. */
class W8A8OrtTest {
  private static final int DIM = 64;
  @TempDir Path tmp;

  private static PassContext calibrated() {
    return new PassContext(
        3,
        Optional.of(TinyEncoder.calibration(4, 2, 12, DIM)),
        Optional.empty(),
        ProgressListener.NONE);
  }

  private static float[] run(Path file, Tensor x) throws Exception {
    try (OrtExecutor ort = OrtExecutor.builder().setModelPath(file).optIntraOpThreads(1).build()) {
      return ort.forward(Map.of("x", x)).get("y").toFloatArray();
    }
  }

  /** Relative L2 error of {@code q} against {@code f}. */
  private static double relErr(float[] q, float[] f) {
    double e = 0;
    double s = 0;
    for (int i = 0; i < f.length; i++) {
      e += (q[i] - f[i]) * (double) (q[i] - f[i]);
      s += f[i] * (double) f[i];
    }
    return Math.sqrt(e / s);
  }

  @Test
  void staticWritesQdqThatOnnxRuntimeFusesIntoIntegerMatMuls() throws Exception {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 16, 1);
    Path fp = tmp.resolve("fp.onnx");
    OnnxWriter.write(m, fp);
    PassReport rep =
        new StaticPtqPass(
                StaticPtqConfig.builder()
                    .observer("minmax")
                    .percentile(99.99)
                    .averagingConstant(0.01)
                    .activationSymmetric(false)
                    .embeddings(false)
                    .reduceRange(!OrtCpu.exactU8S8())
                    .build())
            .apply(m, calibrated());
    assertThat(rep.layersTouched()).containsExactly(TinyEncoder.A, TinyEncoder.B, TinyEncoder.OUT);
    assertThat(rep.metrics().get("activation_tensors")).isEqualTo(2.0); // n (shared by a, b), r2
    Path q = tmp.resolve("static.onnx");
    OnnxWriter.write(m, q);

    ModelGraph back = OnnxReader.read(q);
    Node a = back.graph().node(TinyEncoder.A).orElseThrow();
    Node xdq = GraphIndex.of(back.graph()).producer(a.input(0)).orElseThrow();
    Node wdq = GraphIndex.of(back.graph()).producer(a.input(1)).orElseThrow();
    assertThat(xdq.opType()).isEqualTo("DequantizeLinear");
    assertThat(GraphIndex.of(back.graph()).producer(xdq.input(0)).orElseThrow().opType())
        .isEqualTo("QuantizeLinear");
    assertThat(back.graph().constant(xdq.input(2)).orElseThrow().dtype()).isEqualTo(DataType.UINT8);
    assertThat(back.graph().constant(xdq.input(1)).orElseThrow().rank()).isZero(); // per tensor
    assertThat(wdq.opType()).isEqualTo("DequantizeLinear");
    assertThat(wdq.intAttr("axis", -1)).isEqualTo(1);
    Tensor wq = back.graph().constant(wdq.input(0)).orElseThrow();
    assertThat(wq.dtype()).isEqualTo(DataType.INT8);
    assertThat(wq.shape()).containsExactly(DIM, DIM);
    assertThat(wdq.inputs()).hasSize(2); // symmetric: no zero point
    // Both MatMuls read the same Q/DQ pair.
    assertThat(back.graph().node(TinyEncoder.B).orElseThrow().input(0)).isEqualTo(a.input(0));

    Map<String, Integer> ops = OrtGraphs.optimizedOps(q, tmp.resolve("static-opt.onnx"));
    assertThat(ops).containsEntry("com.microsoft::MatMulIntegerToFloat", 2);

    Tensor x = TinyEncoder.input(9, 3, 10, DIM);
    double err = relErr(run(q, x), run(fp, x));
    System.out.printf("[w8a8-ort] static minmax: relative L2 error %.4f, ORT ops %s%n", err, ops);
    assertThat(err).isLessThan(0.05); // measured 0.021
  }

  @Test
  void dynamicWritesOnnxRuntimesOwnPatternAndItFuses() throws Exception {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 16, 2);
    Path fp = tmp.resolve("fp.onnx");
    OnnxWriter.write(m, fp);
    new DynamicPtqPass(
            DynamicPtqConfig.builder().embeddings(false).reduceRange(!OrtCpu.exactU8S8()).build())
        .apply(m, PassContext.of(0));
    Path q = tmp.resolve("dynamic.onnx");
    OnnxWriter.write(m, q);
    ModelGraph back = OnnxReader.read(q);
    long dql =
        back.graph().nodes().stream()
            .filter(n -> n.opType().equals("DynamicQuantizeLinear"))
            .count();
    long mmi =
        back.graph().nodes().stream().filter(n -> n.opType().equals("MatMulInteger")).count();
    assertThat(dql).isEqualTo(2); // n shared by a and b; r2
    assertThat(mmi).isEqualTo(3);
    assertThat(back.graph().initializers()).doesNotContainKeys("Wa", "Wb", "W2");
    Map<String, Integer> ops = OrtGraphs.optimizedOps(q, tmp.resolve("dynamic-opt.onnx"));
    assertThat(
            ops.getOrDefault("com.microsoft::MatMulIntegerToFloat", 0)
                + ops.getOrDefault("com.microsoft::DynamicQuantizeMatMul", 0))
        .isEqualTo(3);
    assertThat(ops).doesNotContainKey("MatMulInteger");

    Tensor x = TinyEncoder.input(9, 3, 10, DIM);
    double err = relErr(run(q, x), run(fp, x));
    System.out.printf("[w8a8-ort] dynamic: relative L2 error %.4f, ORT ops %s%n", err, ops);
    assertThat(err).isLessThan(0.05);
  }

  @Test
  void reducedRangeWeightsStayWithin7BitsAndStayAccurateOnEveryCpu() throws Exception {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 16, 1);
    Path fp = tmp.resolve("fp.onnx");
    OnnxWriter.write(m, fp);
    PassReport rep =
        new StaticPtqPass(
                StaticPtqConfig.builder()
                    .observer("minmax")
                    .activationSymmetric(false)
                    .reduceRange(true)
                    .build())
            .apply(m, calibrated());
    Path q = tmp.resolve("reduced.onnx");
    OnnxWriter.write(m, q);
    ModelGraph back = OnnxReader.read(q);
    Node a = back.graph().node(TinyEncoder.A).orElseThrow();
    Node wdq = GraphIndex.of(back.graph()).producer(a.input(1)).orElseThrow();
    Tensor wq = back.graph().constant(wdq.input(0)).orElseThrow();
    int max = 0;
    java.nio.ByteBuffer codes = wq.data();
    while (codes.hasRemaining()) {
      max = Math.max(max, Math.abs(codes.get()));
    }
    assertThat(max).isEqualTo(63); // the largest weight of each channel maps to 63
    // 7 bits cost about 6 dB against the full range's SQNR on the same weights.
    double sqnr = rep.layerMetrics(TinyEncoder.A).get("weight_sqnr_db");
    ModelGraph full = TinyEncoder.build(DIM, DIM, 16, 1);
    double sqnrFull =
        new StaticPtqPass(StaticPtqConfig.builder().observer("minmax").build())
            .apply(full, calibrated())
            .layerMetrics(TinyEncoder.A)
            .get("weight_sqnr_db");
    assertThat(sqnrFull - sqnr).isBetween(4.0, 8.0);
    Tensor x = TinyEncoder.input(9, 3, 10, DIM);
    assertThat(relErr(run(q, x), run(fp, x))).isLessThan(0.05);
  }

  @Test
  void badInputIsReportedBeforeAnythingChanges() throws Exception {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 16, 3);
    int nodes = m.graph().nodes().size();
    StaticPtqPass pass =
        new StaticPtqPass(
            StaticPtqConfig.builder()
                .observer("kl")
                .percentile(99.99)
                .averagingConstant(0.01)
                .activationSymmetric(false)
                .embeddings(false)
                .build());
    assertThatThrownBy(() -> pass.apply(m, PassContext.of(0)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("ptq-static calibrates activation ranges and needs calibration data");
    m.opsetImports().put("", 10L); // below 11 the opset is not raised
    assertThatThrownBy(() -> pass.apply(m, calibrated()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("needs opset >= 13")
        .hasMessageContaining("supported from opset 11")
        .hasMessageNotContaining("bits=4"); // ptq-static has no MatMulNBits format to offer
    assertThat(m.graph().nodes()).hasSize(nodes);
    assertThatThrownBy(
            () ->
                StaticPtqConfig.builder()
                    .observer("entropy")
                    .percentile(99.99)
                    .averagingConstant(0.01)
                    .activationSymmetric(false)
                    .embeddings(false)
                    .build())
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage(
            "observer must be one of [minmax, moving-average, percentile, mse, kl], found"
                + " 'entropy'");
    assertThatThrownBy(
            () ->
                StaticPtqConfig.builder()
                    .observer("percentile")
                    .percentile(0)
                    .averagingConstant(0.01)
                    .activationSymmetric(false)
                    .embeddings(false)
                    .build())
        .hasMessage("percentile must be in (0, 100], found 0.0");
  }
}
