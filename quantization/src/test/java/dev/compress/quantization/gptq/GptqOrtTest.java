package dev.compress.quantization.gptq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.TinyModels;
import dev.compress.quantization.format.WeightMatrix;
import dev.compress.quantization.format.compressedtensors.CompressedTensorsCheckpoint;
import dev.compress.quantization.format.gptq.GptqCheckpoint;
import dev.compress.quantization.format.gptq.GptqLayoutTest;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ONNX output of {@link GptqPass} on a two-layer MLP built in code computes, in ONNX Runtime,
 * exactly what the quantized weights stand for: the same model with its weights replaced by the
 * dequantized GPTQ weights gives the same outputs (MatMulNBits, the 3-bit 4-bit container, the
 * act-order Gather, DequantizeLinear).
 */
public class GptqOrtTest {
  @TempDir Path tmp;

  static final int IN = 64;
  static final int HIDDEN = 128;
  static final int OUT = 32;

  /**
   * The shared fixture's MLP ({@link TinyModels#mlp}, opset 17, {@code transB} Gemm): {@code
   * x[batch, 64] -> /fc1/MatMul W1[64, 128] (+b1) -> Relu -> /fc2/Gemm W2[32, 128] (+b2) -> y}.
   */
  public static ModelGraph mlp(long seed) {
    return TinyModels.mlp(IN, HIDDEN, OUT, seed);
  }

  /** Inputs whose features have very different scales, so act-order permutes. */
  public static Tensor input(long seed, int batch) {
    Random r = new Random(seed);
    float[] v = new float[batch * IN];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextGaussian() * (1 + (i % IN) % 7));
    }
    return Tensor.ofFloats("x", new long[] {batch, IN}, v);
  }

  public static CalibrationSet calibration() {
    List<Map<String, Tensor>> batches = new ArrayList<>();
    for (int b = 0; b < 4; b++) {
      batches.add(Map.of("x", input(100 + b, 64)));
    }
    return new CalibrationSet(
        batches, new CalibrationIdentity("test", "tensors", 256, 1, 0, false, "-"));
  }

  @ParameterizedTest
  @CsvSource({
    "4,32,true,false,false", "4,32,false,true,false", "4,16,true,true,false",
        "3,32,false,true,true",
    "2,32,true,false,false", "4,0,true,true,false", "8,0,true,false,false", "5,0,false,false,false"
  })
  void onnxRuntimeComputesTheDequantizedWeights(
      int bits, int group, boolean sym, boolean act, boolean stat) throws Exception {
    GptqConfig cfg =
        GptqConfig.builder()
            .bits(bits)
            .groupSize(group)
            .symmetric(sym)
            .actOrder(act)
            .staticGroups(stat)
            .dampPercent(0.01)
            .maxDampPercent(1.0)
            .blockSize(128)
            .blockPattern(null)
            .accuracyLevel(0)
            .build();
    ModelGraph quantized = mlp(1);
    GptqPass pass = new GptqPass(cfg);
    PassReport report =
        pass.apply(
            quantized,
            new PassContext(
                0, Optional.of(calibration()), Optional.empty(), ProgressListener.NONE));
    assertThat(report.layersTouched()).containsExactly("/fc1/MatMul", "/fc2/Gemm");
    assertThat(report.notes()).anyMatch(n -> n.message().startsWith("no transformer blocks found"));
    boolean gather = quantized.graph().nodes().stream().anyMatch(n -> n.opType().equals("Gather"));
    assertThat(gather).isEqualTo(act && !stat && group > 0);

    // The integer weights read back from the graph alone: what the exporters write.
    Map<String, GroupQuantizedWeight> weights = GptqExport.weights(quantized, cfg);
    assertThat(weights.keySet()).containsExactly("/fc1/MatMul", "/fc2/Gemm");
    ModelGraph reference = mlp(1);
    for (LinearLayer l : LinearLayers.of(reference.graph())) {
      GroupQuantizedWeight q = weights.get(l.name());
      float[] d = q.dequantize();
      int out = q.rows();
      int in = q.cols();
      float[] stored = new float[d.length];
      for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) {
          stored[WeightMatrix.storedIndex(l.layout(), out, in, o, i)] = d[o * in + i];
        }
      }
      reference.graph().putInitializer(Tensor.ofFloats(l.weight(), l.weightShape(), stored));
    }
    Map<String, Tensor> feed = Map.of("x", input(7, 16));
    float[] want;
    float[] got;
    try (OrtExecutor a = OrtExecutor.builder().setModel(reference).build();
        OrtExecutor b = OrtExecutor.builder().setModel(quantized).build()) {
      want = a.forward(feed).get("y").toFloatArray();
      got = b.forward(feed).get("y").toFloatArray();
    }
    double maxDiff = 0;
    double maxAbs = 0;
    for (int i = 0; i < want.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
      maxAbs = Math.max(maxAbs, Math.abs(want[i]));
    }
    System.out.printf(
        "[gptq-ort] %d-bit g%d sym=%s act=%s static=%s: max |diff| %.2e of max %.2f%n",
        bits, group, sym, act, stat, maxDiff, maxAbs);
    assertThat(maxDiff).isLessThan(1e-4 * Math.max(1, maxAbs)); // float summation order only

    // The same weights through both Hugging Face layouts and back (GPTQ packs 2, 3, 4, 8 bits),
    // exported from the model read back from disk: no pass state involved.
    Path onnx = tmp.resolve("model.onnx");
    OnnxWriter.write(quantized, onnx);
    ModelGraph loaded = OnnxReader.read(onnx);
    Map<String, GroupQuantizedWeight> byModule = new java.util.LinkedHashMap<>();
    weights.forEach((k, v) -> byModule.put(GptqCheckpoint.moduleName(k), v));
    GptqExport.compressedTensors(tmp.resolve("ct"), loaded, cfg);
    Map<String, GroupQuantizedWeight> ct = CompressedTensorsCheckpoint.read(tmp.resolve("ct"));
    assertThat(ct.keySet()).containsExactly("fc1", "fc2");
    byModule.forEach((k, v) -> GptqLayoutTest.assertSame(v, ct.get(k), false));
    if (bits != 5) {
      GptqExport.gptq(tmp.resolve("gptq"), loaded, cfg);
      Map<String, GroupQuantizedWeight> gq = GptqCheckpoint.read(tmp.resolve("gptq"));
      byModule.forEach((k, v) -> GptqLayoutTest.assertSame(v, gq.get(k), true));
    }
  }

  @Test
  void onePassInstanceAppliedTwiceGivesWhatTwoInstancesGive() throws Exception {
    GptqConfig cfg =
        GptqConfig.builder()
            .bits(4)
            .groupSize(32)
            .symmetric(false)
            .actOrder(true)
            .staticGroups(false)
            .dampPercent(0.01)
            .maxDampPercent(1.0)
            .blockSize(128)
            .blockPattern(null)
            .accuracyLevel(0)
            .build();
    GptqPass shared = new GptqPass(cfg);
    PassContext ctx =
        new PassContext(0, Optional.of(calibration()), Optional.empty(), ProgressListener.NONE);
    ModelGraph first = mlp(1);
    ModelGraph second = mlp(2);
    PassReport r1 = shared.apply(first, ctx);
    PassReport r2 = shared.apply(second, ctx);
    ModelGraph alone = mlp(2);
    PassReport r3 = new GptqPass(cfg).apply(alone, ctx);
    assertThat(r2.layerMetrics()).isEqualTo(r3.layerMetrics());
    assertThat(r2.notes()).isEqualTo(r3.notes());
    assertThat(r1.layerMetrics()).isNotEqualTo(r2.layerMetrics()); // other weights
    Path a = tmp.resolve("second.onnx");
    Path b = tmp.resolve("alone.onnx");
    OnnxWriter.write(second, a);
    OnnxWriter.write(alone, b);
    assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
  }
}
