package dev.compress.quantization.awq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Gaussian;
import dev.compress.quantization.rtn.ClipMethod;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AWQ folds its scales into RMSNorm ({@code SimplifiedLayerNormalization}) and ONNX Runtime's
 * {@code SkipLayerNormalization}, as SmoothQuant does: the scaled float model computes the same
 * function in ONNX Runtime.
 */
class AwqNormFoldTest {
  @TempDir Path tmp;

  private static final int D = Block.D;

  /**
   * {@code h = RMSNorm(x)}; {@code m = (h Wa) * (h Wb)}; {@code y = m + h}: the residual reads the
   * norm's output, so folding needs the compensating Mul.
   */
  static ModelGraph rmsNorm(long seed) {
    GraphBuilder g = GraphBuilder.create("rms");
    Random r = new Random(seed);
    String x = g.input("x", DataType.FLOAT, "n0", "n1", D);
    g.output("y", DataType.FLOAT);
    String g1 = g.initializer(Gaussian.tensor("g1", r, 0.3f, 1f, D));
    String wa = g.initializer(Gaussian.tensor("Wa", r, 0.1f, 0f, D, D));
    String wb = g.initializer(Gaussian.tensor("Wb", r, 0.1f, 0f, D, D));
    String h =
        g.opTo(
            "SimplifiedLayerNormalization",
            "/norm/RMSNorm",
            List.of(x, g1),
            "h",
            Attribute.of("epsilon", 1e-6f));
    tail(g, h, wa, wb);
    return g.build();
  }

  /**
   * {@code (h, _, _, s) = SkipLayerNorm(x, x0)} with {@code x0 = x W0}; the same tail as {@link
   * #rmsNorm}, plus the sum output {@code s} added to {@code y}.
   */
  static ModelGraph skipLayerNorm(long seed) {
    GraphBuilder g = GraphBuilder.create("skip");
    Random r = new Random(seed);
    String x = g.input("x", DataType.FLOAT, "n0", "n1", D);
    g.output("y", DataType.FLOAT);
    g.output("s", DataType.FLOAT);
    String w0 = g.initializer(Gaussian.tensor("W0", r, 0.1f, 0f, D, D));
    String g1 = g.initializer(Gaussian.tensor("g1", r, 0.3f, 1f, D));
    String be1 = g.initializer(Gaussian.tensor("be1", r, 0.1f, 0f, D));
    String wa = g.initializer(Gaussian.tensor("Wa", r, 0.1f, 0f, D, D));
    String wb = g.initializer(Gaussian.tensor("Wb", r, 0.1f, 0f, D, D));
    String x0 = g.opTo("MatMul", "/in/MatMul", List.of(x, w0), "x0");
    g.nodeTo(
        GraphBuilder.MS_DOMAIN,
        "SkipLayerNormalization",
        "/norm/SkipLayerNorm",
        List.of(x, x0, g1, be1),
        List.of("h", "", "", "s"),
        Attribute.of("epsilon", 1e-5f));
    tail(g, "h", wa, wb);
    return g.build();
  }

  private static void tail(GraphBuilder g, String h, String wa, String wb) {
    String a = g.opTo("MatMul", "/a/MatMul", List.of(h, wa), "a");
    String b = g.opTo("MatMul", "/b/MatMul", List.of(h, wb), "b");
    String mm = g.opTo("Mul", "/mul", List.of(a, b), "mm");
    g.opTo("Add", "/res/Add", List.of(mm, h), "y");
  }

  private static AwqConfig config() {
    return AwqConfig.builder()
        .bits(4)
        .groupSize(32)
        .symmetric(false)
        .alphaGrid(20)
        .duoScaling(false)
        .clip(ClipMethod.NONE)
        .clipTokens(512)
        .residualMul(true)
        .accuracyLevel(0)
        .build();
  }

  @Test
  void foldsIntoRmsNormWithTheCompensatingMul() throws Exception {
    double diff = foldAndCompare("rms", AwqNormFoldTest::rmsNorm, "/norm/RMSNorm", 1);
    assertThat(diff).isLessThan(1e-5); // measured 1.1e-7 (alpha 0.40)
  }

  @Test
  void foldsIntoSkipLayerNormWithTheCompensatingMul() throws Exception {
    double diff = foldAndCompare("skip", AwqNormFoldTest::skipLayerNorm, "/norm/SkipLayerNorm", 1);
    assertThat(diff).isLessThan(1e-5); // measured 2.5e-8 (alpha 0.45)
  }

  /**
   * Searches and folds the scales of {@code model}, checks the group after the norm was scaled (its
   * constants divided, one compensating Mul), and returns the largest difference of the outputs of
   * the folded and the original float models in ONNX Runtime, relative to the largest output.
   */
  private double foldAndCompare(String label, LongFunction<ModelGraph> model, String norm, int muls)
      throws Exception {
    ModelGraph original = model.apply(3);
    ModelGraph folded = model.apply(3);
    AwqPass pass = new AwqPass(config());
    Map<String, Double> alphas = pass.searchAndFold(folded, Block.calibration(3, 4, 16, D));
    assertThat(alphas.get("h")).as("alpha of the group after " + norm).isGreaterThan(0);
    Node n = folded.graph().node(norm).orElseThrow();
    String gamma = n.input(n.opType().startsWith("Skip") ? 2 : 1);
    assertThat(folded.graph().initializers().get(gamma).data())
        .isNotEqualTo(original.graph().initializers().get(gamma).data());
    long mulCount =
        folded.graph().nodes().stream().filter(x -> x.opType().equals("Mul")).count() - 1;
    assertThat(mulCount).as("compensating Muls").isEqualTo(muls);

    Path fo = tmp.resolve(label + "-original.onnx");
    Path ff = tmp.resolve(label + "-folded.onnx");
    OnnxWriter.write(original, fo);
    OnnxWriter.write(folded, ff);
    Tensor x = Block.activations(9, 2, 8, D);
    double maxAbs = 0;
    double maxDiff = 0;
    try (OrtExecutor a = OrtExecutor.builder().setModelPath(fo).build();
        OrtExecutor b = OrtExecutor.builder().setModelPath(ff).build()) {
      Map<String, Tensor> ya = a.forward(Map.of("x", x));
      Map<String, Tensor> yb = b.forward(Map.of("x", x));
      for (String out : ya.keySet()) {
        float[] va = ya.get(out).toFloatArray();
        float[] vb = yb.get(out).toFloatArray();
        for (int i = 0; i < va.length; i++) {
          maxAbs = Math.max(maxAbs, Math.abs(va[i]));
          maxDiff = Math.max(maxDiff, Math.abs(va[i] - vb[i]));
        }
      }
    }
    double rel = maxDiff / Math.max(1, maxAbs);
    System.out.printf(
        "AWQ fold into %s: alpha %.2f, max |diff| %.3g (relative %.3g)%n",
        norm, alphas.get("h"), maxDiff, rel);
    return rel;
  }
}
