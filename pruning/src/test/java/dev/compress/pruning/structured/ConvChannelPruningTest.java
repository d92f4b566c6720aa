package dev.compress.pruning.structured;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.ExportedEncoder;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conv output channels removed with their BatchNormalization entries ({@link TinyCnns}): the pruned
 * model equals the dense one with the removed channels' consumer weights zeroed, to 1e-5 in ONNX
 * Runtime; its parameter count is what the kept channel counts give; residual Adds tie both
 * branches; depthwise Convs pass the channels through with their filters and group count.
 */
class ConvChannelPruningTest {
  @TempDir Path tmp;

  static StructuredPruningConfig.Builder params(
      double kept, StructuredPruningConfig.Importance imp) {
    return StructuredPruningConfig.builder()
        .budget(StructuredPruningConfig.Budget.PARAMS)
        .kept(kept)
        .importance(imp)
        .rescale(StructuredPruningConfig.Rescale.NONE);
  }

  /** Writes and reads back {@code m} (the file ONNX Runtime would load). */
  ModelGraph roundTrip(ModelGraph m, String name) throws Exception {
    Path f = tmp.resolve(name + ".onnx");
    OnnxWriter.write(m, f);
    return OnnxReader.read(f);
  }

  static float[] logits(ModelGraph m, Map<String, Tensor> in) throws Exception {
    try (OrtExecutor ort = OrtExecutor.builder().setModel(m).optIntraOpThreads(1).build()) {
      return ort.forward(in).get("logits").toFloatArray();
    }
  }

  static long parameters(ModelGraph m) {
    return m.graph().initializers().values().stream().mapToLong(Tensor::elementCount).sum();
  }

  /** For every axis-0 slice of {@code pruned}, its index in {@code dense} (equal contents). */
  static List<Integer> keptChannels(ModelGraph dense, ModelGraph pruned, String weight) {
    Tensor d = dense.graph().initializers().get(weight);
    Tensor p = pruned.graph().constant(weight).orElseThrow();
    int row = (int) (d.elementCount() / d.dim(0));
    int prow = (int) (p.elementCount() / p.dim(0));
    float[] dv = d.toFloatArray();
    float[] pv = p.toFloatArray();
    List<Integer> out = new ArrayList<>();
    for (int k = 0; k < p.dim(0); k++) {
      for (int i = 0; i < d.dim(0); i++) {
        if (prow == row
            && Arrays.equals(dv, i * row, (i + 1) * row, pv, k * prow, (k + 1) * prow)) {
          out.add(i);
          break;
        }
      }
    }
    assertThat(out).as("kept channels of %s", weight).hasSize((int) p.dim(0));
    return out;
  }

  /**
   * Zeroes, in {@code m}'s weight {@code [out, channels * per, inner...]}, the axis-1 entries of
   * every channel not in {@code kept} ({@code per} consecutive entries each).
   */
  static void zeroInputs(ModelGraph m, String weight, List<Integer> kept, int per) {
    Tensor w = m.graph().initializers().get(weight);
    float[] v = w.toFloatArray();
    int out = (int) w.dim(0);
    int in = (int) w.dim(1);
    int inner = v.length / (out * in);
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        if (!kept.contains(i / per)) {
          Arrays.fill(v, (o * in + i) * inner, (o * in + i + 1) * inner, 0f);
        }
      }
    }
    m.graph().putInitializer(Tensor.ofFloats(weight, w.shape(), v));
  }

  static double maxDiff(float[] a, float[] b) {
    assertThat(a).hasSameSizeAs(b);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  static DependencyGroup group(DependencyGroups dg, String source) {
    return dg.groups().stream()
        .filter(g -> g.sources().stream().anyMatch(s -> s.name().equals(source)))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no group of " + source + ": " + dg.refused()));
  }

  @Test
  void plainCnnChannelsGoWithTheirBatchNormAndFlattenedFeatures() throws Exception {
    ModelGraph m = TinyCnns.plain(3);
    ModelGraph dense = TinyCnns.plain(3);
    DependencyGroups dg = DependencyGroups.of(m);
    DependencyGroup g1 = group(dg, "/conv1/Conv");
    DependencyGroup g2 = group(dg, "/conv2/Conv");
    assertThat(g1.kind()).isEqualTo(DependencyGroup.Kind.CHANNELS);
    assertThat(g1.units()).isEqualTo(8);
    assertThat(g1.sinks()).extracting(s -> s.layer().name()).containsExactly("/conv2/Conv");
    assertThat(g1.consts()).hasSize(5); // the conv bias and the four BatchNormalization inputs
    assertThat(g2.sinks()).extracting(s -> s.layer().name()).containsExactly("/fc/Gemm");
    assertThat(g2.sinks().get(0).unitSize()).isEqualTo(4); // a 2 x 2 map per channel
    assertThat(dg.refused().get("/fc/Gemm")).contains("graph output 'logits'");

    PassReport rep =
        new StructuredPruningPass(
                params(0.55, StructuredPruningConfig.Importance.FILTER_L2).build())
            .apply(m, PassContext.of(0));
    ModelGraph back = roundTrip(m, "plain");
    List<Integer> k1 = keptChannels(dense, back, "conv1.weight");
    List<Integer> k2 = keptChannels(dense, back, "conv2_bn.running_var");
    assertThat(k1.size()).isBetween(1, 7);
    assertThat(k2.size()).isBetween(1, 6);
    assertThat(rep.metrics().get("channels_removed")).isEqualTo(8 - k1.size() + 6 - k2.size());
    int c1 = k1.size();
    int c2 = k2.size();
    long expected = (c1 * 3 * 9 + c1) + 4 * c1 + (c2 * c1 * 9 + c2) + 4 * c2 + (5 * c2 * 4 + 5);
    assertThat(parameters(back)).isEqualTo(expected);
    assertThat(rep.metrics().get("params_removed"))
        .isEqualTo((double) (parameters(dense) - expected));
    assertThat(back.graph().constant("conv1_bn.running_var").orElseThrow().shape())
        .containsExactly(c1);

    zeroInputs(dense, "conv2.weight", k1, 1);
    zeroInputs(dense, "fc.weight", k2, 4);
    Map<String, Tensor> in = TinyCnns.images(7, 4);
    double diff = maxDiff(logits(back, in), logits(dense, in));
    System.out.printf(
        "[structured] plain CNN: %d/8 and %d/6 channels kept, %d -> %d parameters, max |pruned -"
            + " masked| %.2e%n",
        c1, c2, parameters(TinyCnns.plain(3)), parameters(back), diff);
    assertThat(diff).isLessThan(1e-5);
  }

  @Test
  void residualAddPrunesTheSameChannelsFromBothBranches() throws Exception {
    ModelGraph m = TinyCnns.residual(5);
    ModelGraph dense = TinyCnns.residual(5);
    DependencyGroups dg = DependencyGroups.of(m);
    DependencyGroup tied = group(dg, "/conv0/Conv");
    assertThat(tied.sources())
        .extracting(dev.compress.api.layers.LinearLayer::name)
        .containsExactlyInAnyOrder("/conv0/Conv", "/conv2/Conv");
    assertThat(tied.sinks())
        .extracting(s -> s.layer().name())
        .containsExactlyInAnyOrder("/conv1/Conv", "/fc/Gemm");
    assertThat(group(dg, "/conv1/Conv").sinks())
        .extracting(s -> s.layer().name())
        .containsExactly("/conv2/Conv");

    new StructuredPruningPass(params(0.5, StructuredPruningConfig.Importance.WEIGHT_NORM).build())
        .apply(m, PassContext.of(0));
    ModelGraph back = roundTrip(m, "residual");
    List<Integer> k0 = keptChannels(dense, back, "conv0.weight");
    List<Integer> k1 = keptChannels(dense, back, "conv1_bn.running_var");
    assertThat(keptChannels(dense, back, "conv2_bn.running_var")).isEqualTo(k0);
    assertThat(k0.size()).isLessThan(8);
    zeroInputs(dense, "conv1.weight", k0, 1);
    zeroInputs(dense, "fc.weight", k0, 1);
    zeroInputs(dense, "conv2.weight", k1, 1);
    Map<String, Tensor> in = TinyCnns.images(8, 3);
    double diff = maxDiff(logits(back, in), logits(dense, in));
    System.out.printf(
        "[structured] residual CNN: %d/8 tied and %d/8 inner channels kept, max |pruned - masked|"
            + " %.2e%n",
        k0.size(), k1.size(), diff);
    assertThat(diff).isLessThan(1e-5);
  }

  @Test
  void aResidualWithTheImageItselfIsRefusedNamingTheAdd() {
    Random r = new Random(1);
    GraphBuilder b = GraphBuilder.create("skip").opset("", 17);
    String x = b.input("image", DataType.FLOAT, "N", 3, TinyCnns.SIDE, TinyCnns.SIDE);
    String h = TinyCnns.convBn(b, "/conv", x, 3, 3, 3, 1, r);
    h = b.op("Add", "/skip/Add", List.of(h, x));
    h = b.op("GlobalAveragePool", "/gap", List.of(h));
    h = b.op("Flatten", "/flatten", List.of(h));
    b.nodeTo(
        "",
        "Gemm",
        "/fc/Gemm",
        List.of(h, b.initializer(TinyCnns.normal("fc.weight", r, 1, 5, 3))),
        List.of("logits"),
        dev.compress.api.graph.Attribute.of("transB", 1L));
    b.output("logits", DataType.FLOAT, "N", 5);
    DependencyGroups dg = DependencyGroups.of(b.build());
    assertThat(dg.groups()).isEmpty();
    assertThat(dg.unfollowable().get("/conv/Conv"))
        .contains("node '/skip/Add' (Add)")
        .contains("'image' would need the same channels removed");
  }

  @Test
  void depthwiseConvFiltersAndGroupCountGoWithTheChannels() throws Exception {
    ModelGraph m = TinyCnns.separable(9, 8);
    ModelGraph dense = TinyCnns.separable(9, 8);
    DependencyGroups dg = DependencyGroups.of(m);
    DependencyGroup g = group(dg, "/conv0/Conv");
    assertThat(g.through()).extracting(t -> t.layer().name()).containsExactly("/dw/Conv");
    assertThat(g.sinks()).extracting(s -> s.layer().name()).containsExactly("/pw/Conv");
    assertThat(dg.refused()).doesNotContainKey("/dw/Conv");

    new StructuredPruningPass(
            params(1.0, StructuredPruningConfig.Importance.FILTER_L1)
                .removed(Map.of("/conv0/Conv", 0.375))
                .build())
        .apply(m, PassContext.of(0));
    ModelGraph back = roundTrip(m, "separable");
    List<Integer> k0 = keptChannels(dense, back, "conv0.weight");
    assertThat(k0).hasSize(5);
    assertThat(keptChannels(dense, back, "dw.weight")).isEqualTo(k0);
    assertThat(back.graph().constant("dw_bn.weight").orElseThrow().shape()).containsExactly(5);
    assertThat(
            back.graph().nodes().stream()
                .filter(n -> n.name().equals("/dw/Conv"))
                .findFirst()
                .orElseThrow()
                .intAttr("group", 0))
        .isEqualTo(5);
    zeroInputs(dense, "pw.weight", k0, 1);
    zeroInputs(dense, "fc.weight", keptChannels(dense, back, "pw_bn.running_var"), 1);
    Map<String, Tensor> in = TinyCnns.images(10, 3);
    double diff = maxDiff(logits(back, in), logits(dense, in));
    System.out.printf(
        "[structured] depthwise CNN: 5/8 channels kept through the depthwise Conv, max |pruned -"
            + " masked| %.2e%n",
        diff);
    assertThat(diff).isLessThan(1e-5);
  }

  @Test
  void groupedConvIsRefusedInOneLineNamingTheNodeAndOp() {
    ModelGraph m = TinyCnns.separable(9, 2);
    DependencyGroups dg = DependencyGroups.of(m);
    assertThat(dg.unfollowable().get("/conv0/Conv"))
        .contains("node '/dw/Conv' (Conv)")
        .contains("group 2 over 8 channels is neither 1 nor depthwise");
    assertThat(dg.unfollowable().get("/dw/Conv")).contains("(Conv) with group 2");
    assertThatThrownBy(
            () ->
                new StructuredPruningPass(
                        params(0.5, StructuredPruningConfig.Importance.FILTER_L2)
                            .targets("/conv0/Conv", "/dw/Conv")
                            .build())
                    .apply(m, PassContext.of(0)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("node '/dw/Conv' (Conv)")
        .satisfies(
            e -> assertThat(((ConfigException) e).problems()).allMatch(p -> !p.contains("\n")));
  }

  static CalibrationSet images(int batches) {
    List<Map<String, Tensor>> b = new ArrayList<>();
    for (int i = 0; i < batches; i++) {
      b.add(TinyCnns.images(50 + i, 4));
    }
    return new CalibrationSet(
        b, new CalibrationIdentity("test", "images", batches * 4, 0, 0, false, "0"));
  }

  /** A channel whose BatchNormalization output is always negative is dead after the Relu. */
  static void killChannel(ModelGraph m, int c) {
    Tensor beta = m.graph().initializers().get("conv1_bn.bias");
    Tensor gamma = m.graph().initializers().get("conv1_bn.weight");
    float[] b = beta.toFloatArray();
    float[] g = gamma.toFloatArray();
    b[c] = -100f;
    g[c] = 2f; // the largest |gamma| and filter stay: only data shows the channel is dead
    m.graph().putInitializer(Tensor.ofFloats(beta.name(), beta.shape(), b));
    m.graph().putInitializer(Tensor.ofFloats(gamma.name(), gamma.shape(), g));
  }

  @Test
  void activationImportanceFromImagesRemovesADeadChannelFirst() throws Exception {
    ModelGraph m = TinyCnns.plain(3);
    killChannel(m, 2);
    ModelGraph dense = TinyCnns.plain(3);
    killChannel(dense, 2);
    PassContext ctx =
        new PassContext(0, Optional.of(images(2)), Optional.empty(), ProgressListener.NONE);
    new StructuredPruningPass(
            params(1.0, StructuredPruningConfig.Importance.ACTIVATION)
                .removed(Map.of("/conv1/Conv", 0.125, "/fc/Gemm", 0.0))
                .build())
        .apply(m, ctx);
    ModelGraph back = roundTrip(m, "dead");
    List<Integer> k1 = keptChannels(dense, back, "conv1.weight");
    assertThat(k1).containsExactly(0, 1, 3, 4, 5, 6, 7);
    // a dead channel contributes nothing: the pruned model equals the dense one
    Map<String, Tensor> in = TinyCnns.images(11, 4);
    assertThat(maxDiff(logits(back, in), logits(dense, in))).isLessThan(1e-5);
  }

  @Test
  void bnScaleKeepsTheLargestGammas() throws Exception {
    ModelGraph m = TinyCnns.plain(4);
    float[] gamma = {0.9f, -0.05f, 1.2f, 0.1f, -1.1f, 0.02f, 0.7f, 0.3f};
    m.graph().putInitializer(Tensor.ofFloats("conv1_bn.weight", new long[] {8}, gamma));
    ModelGraph dense = TinyCnns.plain(4);
    dense.graph().putInitializer(Tensor.ofFloats("conv1_bn.weight", new long[] {8}, gamma));
    new StructuredPruningPass(
            params(1.0, StructuredPruningConfig.Importance.BN_SCALE)
                .removed(Map.of("/conv1/Conv", 0.5, "/fc/Gemm", 0.0))
                .build())
        .apply(m, PassContext.of(0));
    assertThat(keptChannels(dense, m, "conv1.weight")).containsExactly(0, 2, 4, 6);
  }

  @Test
  void bnScaleWithoutBatchNormIsOneLine() {
    ModelGraph m = ExportedEncoder.build(7, true);
    assertThatThrownBy(
            () ->
                new StructuredPruningPass(
                        params(0.6, StructuredPruningConfig.Importance.BN_SCALE).build())
                    .apply(m, PassContext.of(0)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("importance bn-scale: the heads of")
        .hasMessageContaining("pass no BatchNormalization");
  }
}
