package dev.compress.quantization.awq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.OpsetCheck;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.rtn.ClipMethod;
import dev.compress.quantization.rtn.RtnConfig;
import dev.compress.quantization.rtn.RtnPass;
import dev.compress.runtime.djl.DjlExecutor;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AWQ known answers on small graphs built in code ({@link Block}). */
class AwqPassTest {
  @TempDir Path tmp;

  private static final CalibrationSet CAL3 = Block.calibration(3, 4, 16, Block.D);

  private static PassContext context(CalibrationSet cal) {
    return new PassContext(0, Optional.of(cal), Optional.empty(), ProgressListener.NONE);
  }

  private static AwqConfig config(int alphaGrid, ClipMethod clip, boolean duo) {
    return AwqConfig.builder()
        .bits(4)
        .groupSize(32)
        .symmetric(false)
        .alphaGrid(alphaGrid)
        .duoScaling(duo)
        .clip(clip)
        .clipTokens(512)
        .residualMul(true)
        .accuracyLevel(0)
        .build();
  }

  @Test
  void alphaZeroWithoutClipEqualsRoundToNearest() throws Exception {
    ModelGraph awq = Block.postNorm(1);
    new AwqPass(config(1, ClipMethod.NONE, false)).apply(awq, context(CAL3));
    ModelGraph rtn = Block.postNorm(1);
    new RtnPass(
            RtnConfig.builder()
                .bits(4)
                .granularity(Granularity.PER_GROUP)
                .groupSize(32)
                .symmetric(false)
                .build())
        .apply(rtn, PassContext.of(0));
    Map<String, Tensor> a = awq.graph().initializers();
    Map<String, Tensor> r = rtn.graph().initializers();
    assertThat(a.keySet()).isEqualTo(r.keySet());
    for (String k : a.keySet()) {
      assertThat(a.get(k).data()).as(k).isEqualTo(r.get(k).data());
    }
    assertThat(awq.graph().nodes().size()).isEqualTo(rtn.graph().nodes().size());
  }

  @Test
  void onePassInstanceAppliedTwiceGivesWhatTwoInstancesGive() throws Exception {
    AwqPass shared = new AwqPass(config(20, ClipMethod.MSE, false));
    PassReport first = shared.apply(Block.postNorm(1), context(CAL3));
    ModelGraph second = Block.postNorm(2);
    PassReport again = shared.apply(second, context(CAL3));
    ModelGraph alone = Block.postNorm(2);
    PassReport fresh = new AwqPass(config(20, ClipMethod.MSE, false)).apply(alone, context(CAL3));
    assertThat(again.layerMetrics()).isEqualTo(fresh.layerMetrics());
    assertThat(again.notes()).isEqualTo(fresh.notes()).isEqualTo(first.notes());
    // The group after the attention Mul has no foldable producer: reported as a note, not state.
    assertThat(fresh.notes())
        .anyMatch(
            n -> n.layer().orElseThrow().equals("/o/MatMul") && n.message().contains("not scaled"));
    Path a = tmp.resolve("again.onnx");
    Path b = tmp.resolve("fresh.onnx");
    OnnxWriter.write(second, a);
    OnnxWriter.write(alone, b);
    assertThat(java.nio.file.Files.readAllBytes(a)).isEqualTo(java.nio.file.Files.readAllBytes(b));
  }

  @Test
  void foldingKeepsTheFloatFunctionPostNorm() throws Exception {
    ModelGraph original = Block.postNorm(2);
    ModelGraph folded = Block.postNorm(2);
    AwqPass pass = new AwqPass(config(20, ClipMethod.NONE, false));
    AwqPass.Searched searched = pass.searched(folded, CAL3);
    Map<String, Double> alphas = searched.alphas();
    // {a, b} after LN1 and {c} after LN2 are scaled; {o} reads a Mul: no foldable producer.
    assertThat(alphas.get("h")).isGreaterThan(0);
    assertThat(alphas.get("h2")).isGreaterThan(0);
    assertThat(alphas.get("mm")).isEqualTo(-1);
    assertThat(searched.unscaled()).containsKey("/o/MatMul");
    // The residual reads h through the compensating Mul; LN2's output only feeds c: no Mul.
    assertThat(folded.graph().nodes().stream().filter(n -> n.opType().equals("Mul")).count())
        .isEqualTo(2);
    assertSameFunction(original, folded, Block.activations(7, 2, 8, Block.D));
  }

  @Test
  void foldingIntoAPrecedingLinearKeepsTheFunction() throws Exception {
    ModelGraph original = Block.chain(3);
    ModelGraph folded = Block.chain(3);
    CalibrationSet cal = Block.calibration(2, 64, Block.D);
    Map<String, Double> alphas =
        new AwqPass(config(20, ClipMethod.NONE, true)).searchAndFold(folded, cal);
    assertThat(alphas.get("x")).isEqualTo(-1); // graph input: nothing to fold into
    assertThat(alphas.get("h")).isGreaterThanOrEqualTo(0); // duo scaling: s != 1 even at alpha 0
    assertThat(folded.graph().initializers().get("b1").data())
        .isNotEqualTo(original.graph().initializers().get("b1").data());
    assertSameFunction(original, folded, Block.activations(8, 16, Block.D));
  }

  @Test
  void aModelBelowOpset17IsRaisedForTheFusedLayerNorm() throws Exception {
    ModelGraph m = Block.postNorm(1);
    m.opsetImports().put("", 14L); // LayerNormalization is ONNX from 17
    PassReport report = new AwqPass(config(2, ClipMethod.NONE, false)).apply(m, context(CAL3));
    assertThat(m.opset("")).hasValue(17);
    assertThat(report.metrics()).containsEntry("opset_raised_to", 17.0);
    assertThat(OpsetCheck.check(m).violations()).isEmpty();
    Path file = tmp.resolve("raised.onnx");
    OnnxWriter.write(m, file); // the writer accepts it

    ModelGraph at17 = Block.postNorm(1);
    PassReport same = new AwqPass(config(2, ClipMethod.NONE, false)).apply(at17, context(CAL3));
    assertThat(same.metrics()).doesNotContainKey("opset_raised_to");
  }

  @Test
  void aModelThatCannotBeRaisedIsRefusedNamingWhy() {
    ModelGraph m = Block.postNorm(1);
    m.opsetImports().put("", 14L);
    // An operator the opset upgrade does not know keeps the model from being raised.
    m.graph().nodes().add(Node.of("/up", "Upsample", List.of("y"), List.of("up")));
    assertThatThrownBy(() -> new AwqPass(config(2, ClipMethod.NONE, false)).apply(m, context(CAL3)))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("an ONNX operator from opset 17; the model imports opset 14")
        .hasMessageContaining("node '/up': operator Upsample is not known")
        .hasMessageContaining("HINT: re-export the model at opset >= 17");
  }

  private static void assertSameFunction(ModelGraph a, ModelGraph b, Tensor x) throws Exception {
    float[] ya;
    float[] yb;
    try (DjlExecutor ea = DjlExecutor.create(a);
        DjlExecutor eb = DjlExecutor.create(b)) {
      ya = ea.forward(Map.of("x", x)).get("y").toFloatArray();
      yb = eb.forward(Map.of("x", x)).get("y").toFloatArray();
    }
    double maxAbs = 0;
    double maxDiff = 0;
    for (int i = 0; i < ya.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(ya[i]));
      maxDiff = Math.max(maxDiff, Math.abs(ya[i] - yb[i]));
    }
    assertThat(maxDiff).isLessThan(1e-4 * Math.max(1, maxAbs));
  }

  /** Relative output error of the quantized model in ONNX Runtime against the float one. */
  private double error(ModelGraph quantized, String label, Tensor x) throws Exception {
    Path fq = tmp.resolve(label + ".onnx");
    Path ff = tmp.resolve(label + "-float.onnx");
    OnnxWriter.write(quantized, fq);
    OnnxWriter.write(Block.postNorm(4), ff);
    float[] yq;
    float[] yf;
    try (OrtExecutor q = OrtExecutor.builder().setModelPath(fq).build();
        OrtExecutor f = OrtExecutor.builder().setModelPath(ff).build()) {
      yq = q.forward(Map.of("x", x)).get("y").toFloatArray();
      yf = f.forward(Map.of("x", x)).get("y").toFloatArray();
    }
    double num = 0;
    double den = 0;
    for (int i = 0; i < yq.length; i++) {
      num += Math.pow(yq[i] - yf[i], 2);
      den += Math.pow(yf[i], 2);
    }
    return num / den;
  }

  @Test
  void awqBeatsRoundToNearestAndRunsInOnnxRuntime() throws Exception {
    Tensor x = Block.activations(9, 4, 16, Block.D);
    ModelGraph rtn = Block.postNorm(4);
    new RtnPass(
            RtnConfig.builder()
                .bits(4)
                .granularity(Granularity.PER_GROUP)
                .groupSize(32)
                .symmetric(false)
                .build())
        .apply(rtn, PassContext.of(0));
    ModelGraph awq = Block.postNorm(4);
    PassReport report = new AwqPass(config(20, ClipMethod.MSE, false)).apply(awq, context(CAL3));
    assertThat(report.layersTouched()).hasSize(4);
    assertThat(awq.graph().nodes().stream().filter(n -> n.opType().equals("MatMulNBits")))
        .hasSize(4);
    double eRtn = error(rtn, "rtn", x);
    double eAwq = error(awq, "awq", x);
    System.out.printf("[awq-block] relative output error: rtn %.3e, awq %.3e%n", eRtn, eAwq);
    assertThat(eAwq).isLessThan(eRtn);
  }

  @Test
  void missingCalibrationAndBadGroupSizeAreErrorsBeforeAnyChange() throws Exception {
    ModelGraph m = Block.postNorm(5);
    int nodes = m.graph().nodes().size();
    assertThatThrownBy(() -> new AwqPass(AwqConfig.defaults()).apply(m, PassContext.of(0)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("calibration");
    // 128 does not divide the 64 input features of a, b and c.
    assertThatThrownBy(() -> new AwqPass(AwqConfig.defaults()).apply(m, context(CAL3)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("layer '/a/MatMul': groupSize 128 does not divide its 64 input");
    assertThat(m.graph().nodes()).hasSize(nodes);
    assertThat(m.graph().nodes().stream().map(Node::opType)).doesNotContain("MatMulNBits");
  }

  @Test
  void providerIsRegisteredWithTheReferenceDefaults() {
    dev.compress.api.pass.PassProvider<?> p =
        java.util.ServiceLoader.load(dev.compress.api.pass.PassProvider.class).stream()
            .map(java.util.ServiceLoader.Provider::get)
            .filter(x -> x.type().equals("awq"))
            .findFirst()
            .orElseThrow();
    assertThat(p.needsCalibration()).isTrue();
    AwqConfig d = (AwqConfig) p.defaults();
    assertThat(d.bits()).isEqualTo(4);
    assertThat(d.groupSize()).isEqualTo(128);
    assertThat(d.symmetric()).isFalse();
    assertThat(d.alphaGrid()).isEqualTo(20);
    assertThat(d.alpha(19)).isEqualTo(0.95);
    assertThat(d.clip()).isEqualTo(ClipMethod.MSE);
    assertThat(p.parameters())
        .extracting(dev.compress.api.pass.PassProvider.ParamDoc::name)
        .containsExactly(
            "bits",
            "groupSize",
            "symmetric",
            "alphaGrid",
            "duoScaling",
            "clip",
            "clipTokens",
            "clipIgnore",
            "residualMul",
            "accuracyLevel");
  }

  @Test
  void configRejectsBadValues() {
    assertThatThrownBy(
            () ->
                AwqConfig.builder()
                    .bits(3)
                    .groupSize(100)
                    .symmetric(false)
                    .alphaGrid(0)
                    .duoScaling(false)
                    .clip(ClipMethod.MSE)
                    .clipTokens(0)
                    .clipIgnore("re:(")
                    .residualMul(true)
                    .accuracyLevel(0)
                    .build())
        .hasMessageContaining("bits must be 4 or 8, found 3")
        .hasMessageContaining("groupSize must be 0 (per channel), 32, 64 or 128, found 100")
        .hasMessageContaining("alphaGrid must be in [1, 1000], found 0")
        .hasMessageContaining("clipTokens must be >= 1, found 0")
        .hasMessageContaining("clipIgnore[0] is not a valid regex");
  }
}
