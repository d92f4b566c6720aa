package dev.compress.quantization.gptq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayers;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.calibration.blocks.BlockSequentialCalibrator;
import dev.compress.calibration.hessian.HessianAccumulator;
import dev.compress.quantization.format.WeightMatrix;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.grid.QuantizedMatrix;
import dev.compress.quantization.rtn.RtnConfig;
import dev.compress.quantization.rtn.RtnPass;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPTQ on all-MiniLM-L6-v2 (real weights, 128 calibration sentences of Moby-Dick, fidelity on 200
 * held-out State of the Union sentences run in ONNX Runtime): per-layer output error below RTN on
 * every layer, embeddings closer to fp32 than RTN at 4 and 3 bits, and the bad inputs.
 */
class GptqMiniLmTest {
  private static MiniLmFixture fx;
  @TempDir static Path tmp;

  @BeforeAll
  static void load() throws Exception {
    fx = new MiniLmFixture(200);
  }

  @AfterAll
  static void clear() {
    fx = null;
  }

  private static PassContext context(CalibrationSet c) {
    return new PassContext(0, Optional.of(c), Optional.empty(), ProgressListener.NONE);
  }

  private static double[] gptq(String label, GptqConfig cfg, int samples) throws Exception {
    ModelGraph m = fx.read();
    GptqPass pass = new GptqPass(cfg);
    PassReport r = pass.apply(m, context(fx.calibration(m, samples)));
    assertThat(r.layersTouched()).hasSize(37); // 6 blocks x 6 + the pooler's Gemm
    double[] f = fx.fidelity(m, tmp, label);
    print(label, f, r.metrics().get("weight_bytes_ratio"));
    r.notes().forEach(n -> System.out.println("[gptq-minilm]   " + n.text()));
    return f;
  }

  private static void print(String label, double[] f, Double ratio) {
    System.out.printf(
        "[gptq-minilm] %-26s cosine mean %.5f min %.5f%s%n",
        label, f[0], f[1], ratio == null ? "" : String.format("  weight bytes %.3fx", ratio));
  }

  /** RTN at any bits: weights replaced by their dequantized values (same grid as the passes). */
  private static double[] rtnFloat(String label, int bits, int group) throws Exception {
    ModelGraph m = fx.read();
    for (LinearLayer l : LinearLayers.of(m.graph())) {
      int out = (int) l.outFeatures();
      int in = (int) l.inFeatures();
      Tensor w = m.graph().initializers().get(l.weight());
      float[] d =
          QuantizedMatrix.quantize(
                  WeightMatrix.outByIn(w, l.layout(), out, in), out, in, bits, group, true)
              .dequantize();
      float[] stored = new float[d.length];
      for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) {
          stored[WeightMatrix.storedIndex(l.layout(), out, in, o, i)] = d[o * in + i];
        }
      }
      m.graph().putInitializer(Tensor.ofFloats(l.weight(), w.shape(), stored));
    }
    double[] f = fx.fidelity(m, tmp, label);
    print(label, f, null);
    return f;
  }

  @Test
  void fourBitGroup128BeatsRtnAndThreeBitIsFarAhead() throws Exception {
    ModelGraph m = fx.read();
    new RtnPass(
            RtnConfig.builder()
                .bits(4)
                .granularity(Granularity.PER_GROUP)
                .groupSize(128)
                .symmetric(true)
                .build())
        .apply(m, PassContext.of(0));
    double[] rtn4 = fx.fidelity(m, tmp, "rtn4");
    print("RTN W4 g128 (MatMulNBits)", rtn4, null);
    double[] gptq4 = gptq("GPTQ W4 g128", GptqConfig.defaults(), 128);
    double[] rtn3 = rtnFloat("RTN W3 g128 (dequantized)", 3, 128);
    double[] gptq3 =
        gptq(
            "GPTQ W3 g128 act-order",
            GptqConfig.defaults().withBits(3, 128).withOrder(true, false),
            128);
    // measured: RTN4 0.93722 / 0.88298, GPTQ4 0.97084 / 0.92602 (mean / min cosine, 200 sentences)
    assertThat(gptq4[0]).isGreaterThan(rtn4[0]);
    assertThat(gptq4[1]).isGreaterThan(rtn4[1]);
    // measured: RTN3 0.77071 / 0.64383, GPTQ3 act-order 0.87777 / 0.67771 (without act-order
    // 0.84230 / 0.49399: the mean is ahead, the worst sentence is not)
    assertThat(gptq3[1]).isGreaterThan(rtn3[1]);
    // "Far ahead": GPTQ's mean cosine distance at 3 bits is about half of RTN's (measured 0.53x).
    assertThat(1 - gptq3[0]).isLessThan(0.6 * (1 - rtn3[0]));
  }

  @Test
  void actOrderWithAndWithoutStaticGroupsRunsInOnnxRuntime() throws Exception {
    double[] act = gptq("GPTQ W4 g128 act-order", GptqConfig.defaults().withOrder(true, false), 64);
    double[] stat =
        gptq(
            "GPTQ W4 g128 act+static asym",
            GptqConfig.defaults().withOrder(true, true).withSymmetric(false),
            64);
    assertThat(act[0]).isGreaterThan(0.9);
    assertThat(stat[0]).isGreaterThan(0.9);
  }

  @Test
  void perLayerOutputErrorIsBelowRtnOnEveryLayer() throws Exception {
    ModelGraph m = fx.read();
    List<LinearLayer> layers = LinearLayers.of(m.graph());
    Map<String, HessianAccumulator> hs =
        new BlockSequentialCalibrator(m, PassContext.of(0)).capture(fx.calibration(m, 128), layers);
    GptqConfig cfg = GptqConfig.defaults();
    int worse = 0;
    double worstRatio = 0;
    for (LinearLayer l : layers) {
      int out = (int) l.outFeatures();
      int in = (int) l.inFeatures();
      double[] h = hs.get(l.name()).hessian();
      float[] w =
          WeightMatrix.outByIn(m.graph().initializers().get(l.weight()), l.layout(), out, in);
      float[] g =
          GptqQuantizer.quantize(l.name(), w, out, in, h.clone(), cfg).weight().dequantize();
      float[] r = QuantizedMatrix.quantize(w, out, in, 4, 128, true).dequantize();
      double eg = outputError(w, g, h, out, in);
      double er = outputError(w, r, h, out, in);
      worstRatio = Math.max(worstRatio, eg / er);
      if (eg >= er) {
        worse++;
        System.out.printf("[gptq-minilm] NOT BELOW RTN %s: %.4g vs %.4g%n", l.name(), eg, er);
      }
    }
    System.out.printf(
        "[gptq-minilm] per-layer ||WX-QX|| GPTQ/RTN worst ratio %.3f over %d layers%n",
        worstRatio, layers.size());
    assertThat(worse).isZero();
  }

  /** {@code sqrt(sum_r (w_r - q_r)^T H (w_r - q_r))}, i.e. ||WX - QX|| up to the factor 2/n. */
  static double outputError(float[] w, float[] q, double[] h, int out, int in) {
    double s = 0;
    double[] d = new double[in];
    for (int r = 0; r < out; r++) {
      for (int i = 0; i < in; i++) {
        d[i] = (double) w[r * in + i] - q[r * in + i];
      }
      for (int i = 0; i < in; i++) {
        double hi = 0;
        for (int j = 0; j < in; j++) {
          hi += h[i * in + j] * d[j];
        }
        s += d[i] * hi;
      }
    }
    return Math.sqrt(s);
  }

  @Test
  void groupSizeNotDividingIsListedForAllLayersBeforeCalibration() throws Exception {
    ModelGraph m = fx.read();
    GptqConfig cfg = GptqConfig.defaults().withBits(4, 256);
    // No calibration at all: the problems are found before it would be needed.
    assertThatThrownBy(() -> new GptqPass(cfg).apply(m, PassContext.of(0)))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e -> {
              List<String> p = ((ConfigException) e).problems();
              // q, k, v, attention output, intermediate (5 x 6 blocks) and the pooler: 384 inputs.
              assertThat(
                      p.stream().filter(s -> s.contains("groupSize 256 does not divide its 384")))
                  .hasSize(31);
              assertThat(p).anyMatch(s -> s.startsWith("gptq needs calibration data"));
            });
  }

  @Test
  void fewerTokensThanColumnsWarnsAndStillQuantizes() throws Exception {
    ModelGraph m = fx.read();
    GptqPass pass =
        new GptqPass(
            GptqConfig.defaults()
                .withSelection(new LayerSelection(List.of("re:/encoder/layer\\.0/.*"), List.of())));
    PassReport r = pass.apply(m, context(fx.calibration(m, 4)));
    assertThat(r.layersTouched()).hasSize(6);
    assertThat(r.warnings())
        .anyMatch(
            n ->
                n.layer().orElseThrow().equals("/encoder/layer.0/attention/self/query/MatMul")
                    && n.message().startsWith("fewer calibration tokens than columns")
                    && n.message().contains("HINT"));
    assertThat(r.layerMetrics("/encoder/layer.0/output/dense/MatMul"))
        .containsKey("calibration_tokens");
  }

  @Test
  void withoutBlocksLayersAreCalibratedOneAtATimeAndTheReportSaysSo() throws Exception {
    ModelGraph m = fx.read();
    GptqConfig cfg =
        GptqConfig.builder()
            .targets("re:/encoder/layer\\.1/attention/.*")
            .bits(4)
            .groupSize(128)
            .symmetric(true)
            .actOrder(false)
            .staticGroups(false)
            .dampPercent(0.01)
            .maxDampPercent(1.0)
            .blockSize(128)
            .blockPattern("no-such-block\\.(\\d+)")
            .accuracyLevel(0)
            .build();
    GptqPass pass = new GptqPass(cfg);
    PassReport r = pass.apply(m, context(fx.calibration(m, 32)));
    assertThat(r.layersTouched()).hasSize(4);
    assertThat(r.notes())
        .anyMatch(
            n ->
                n.message().startsWith("no transformer blocks found")
                    && n.message().contains("4 layers one at a time"));
  }
}
