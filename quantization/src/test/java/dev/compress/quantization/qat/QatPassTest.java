package dev.compress.quantization.qat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.compress.api.CompressionException;
import dev.compress.api.calibration.CalibrationSet;
import dev.compress.api.graph.GraphCheck;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.Calibration;
import dev.compress.fixtures.EncoderConfig;
import dev.compress.fixtures.Fidelity;
import dev.compress.fixtures.OrtCpu;
import dev.compress.fixtures.TinyModels;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.ptq.StaticPtqConfig;
import dev.compress.quantization.ptq.StaticPtqPass;
import dev.compress.quantization.rtn.RtnConfig;
import dev.compress.quantization.rtn.RtnPass;
import dev.compress.training.ParameterSelection;
import dev.compress.training.distill.TeacherStudent;
import dev.compress.training.quant.FakeQuantizeOp;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The {@code qat} pass on a seeded two-block encoder (width 32, FFN 64): at 4 bits in groups of 32
 * it ends closer to the float model than RTN on held-out batches, and what it writes (MatMulNBits,
 * or QDQ for W8A8) computes in ONNX Runtime what the fake-quantized training graph computes.
 */
class QatPassTest {
  private static final EncoderConfig ENCODER = EncoderConfig.tiny(2, 11);
  private static final String OUT = TinyModels.LAST_HIDDEN_STATE;

  private static CalibrationSet train() {
    return Calibration.encoder(ENCODER, 8, 8, 16, 1);
  }

  private static CalibrationSet heldOut() {
    return Calibration.encoder(ENCODER, 4, 8, 16, 1000);
  }

  private static PassContext context(ModelGraph teacher) {
    return new PassContext(7, Optional.of(train()), Optional.of(teacher), ProgressListener.NONE);
  }

  /** {@code sum |y - y_fp32|^2 / sum |y_fp32|^2} of the last hidden state over held-out batches. */
  private static double relativeError(ModelGraph fp32, ModelGraph q) throws CompressionException {
    double err = 0;
    double ref = 0;
    for (Map<String, Tensor> b : heldOut().batches()) {
      float[] a = Fidelity.run("onnxruntime", fp32, b).get(OUT).toFloatArray();
      float[] c = Fidelity.run("onnxruntime", q, b).get(OUT).toFloatArray();
      for (int i = 0; i < a.length; i++) {
        err += (double) (c[i] - a[i]) * (c[i] - a[i]);
        ref += (double) a[i] * a[i];
      }
    }
    return err / ref;
  }

  private static QatConfig.Builder w4() {
    return QatConfig.builder()
        .weights(4, 32, false)
        .schedule(5e-4, 60)
        .batchSize(8)
        .validation(0.125, 10);
  }

  @Test
  void qatAtFourBitsEndsCloserToTheFloatModelThanRtnOnHeldOutBatches() throws Exception {
    ModelGraph fp32 = TinyModels.encoder(ENCODER);
    ModelGraph rtn = fp32.copy();
    new RtnPass(new RtnConfig(LayerSelection.ALL, 4, Granularity.PER_GROUP, 32, false))
        .apply(rtn, PassContext.of(0));
    ModelGraph qat = fp32.copy();
    PassReport r = new QatPass(w4().build()).apply(qat, context(fp32));
    double eRtn = relativeError(fp32, rtn);
    double eQat = relativeError(fp32, qat);
    System.out.printf(
        "[qat tiny W4 g32] held-out relative error RTN %.5f, QAT %.5f; loss %.5f -> %.5f%n",
        eRtn,
        eQat,
        r.metrics().get("validation_loss_before"),
        r.metrics().get("validation_loss_best"));
    assertThat(GraphCheck.errors(qat)).isEmpty();
    assertThat(r.layersTouched()).hasSize(12); // 6 linear layers per block
    assertThat(eQat).isLessThan(0.8 * eRtn); // measured
  }

  /** Trains as {@link QatPass#apply} does, returning the training graph before the export. */
  private static ModelGraph trainAndExport(QatConfig c, ModelGraph model, ModelGraph teacher)
      throws Exception {
    QatPass pass = new QatPass(c);
    PassContext ctx = context(teacher);
    QatPass.Prepared p = pass.prepare(model, ctx);
    TeacherStudent.train(
        QatProvider.TYPE,
        p.student(),
        teacher,
        ParameterSelection.initializers(p.trained()),
        c.losses(),
        c.settings(),
        ctx);
    pass.export(model, p, new PassReport.LayerMetrics(), new LinkedHashMap<>());
    return p.student();
  }

  private static void assertOrtMatchesFakeQuant(QatConfig c, String format, double maxFarFraction)
      throws Exception {
    ModelGraph fp32 = TinyModels.encoder(ENCODER);
    ModelGraph model = fp32.copy();
    ModelGraph student = trainAndExport(c, model, fp32);
    assertThat(GraphCheck.errors(model)).isEmpty();
    assertThat(model.opsetImports()).doesNotContainKey(FakeQuantizeOp.DOMAIN);
    assertThat(model.graph().nodes().stream().map(Node::opType))
        .doesNotContain(FakeQuantizeOp.OP_TYPE)
        .contains(format);
    // The exported model run by the project's interpreter computes exactly the training forward;
    // ONNX Runtime agrees to float rounding, except that with QDQ activations an ulp-level
    // difference in an activation (LayerNorm, GELU are computed differently by the two engines)
    // can move a value sitting on a rounding boundary to the next int8 code.
    double exact = 0;
    double worst = 0;
    double sum = 0;
    long far = 0;
    long n = 0;
    for (Map<String, Tensor> b : heldOut().batches()) {
      Tensor fake = Fidelity.run("djl", student, b).get(OUT);
      exact =
          Math.max(
              exact, Fidelity.compare(fake, Fidelity.run("djl", model, b).get(OUT)).maxAbsDiff());
      float[] f = fake.toFloatArray();
      float[] o = Fidelity.run("onnxruntime", model, b).get(OUT).toFloatArray();
      for (int i = 0; i < f.length; i++) {
        double d = Math.abs(f[i] - o[i]);
        worst = Math.max(worst, d);
        sum += d;
        far += d > 1e-4 ? 1 : 0;
      }
      n += f.length;
    }
    System.out.printf(
        "[qat %s] fake-quant forward vs export: interpreter max |diff| %.3g; ONNX Runtime max %.3g,"
            + " mean %.3g, %d of %d beyond 1e-4%n",
        format, exact, worst, sum / n, far, n);
    assertThat(exact).isLessThan(1e-5); // measured 0
    assertThat(sum / n).isLessThan(1e-5); // measured
    assertThat((double) far / n).isLessThan(maxFarFraction); // measured
  }

  @Test
  void theMatMulNBitsExportComputesWhatTheTrainedFakeQuantGraphComputes() throws Exception {
    assertOrtMatchesFakeQuant(w4().schedule(5e-4, 20).build(), "MatMulNBits", 1e-9);
  }

  @Test
  void theW8a8QdqExportComputesWhatTheTrainedFakeQuantGraphComputes() throws Exception {
    // ONNX Runtime fuses the QDQ pairs into u8s8 integer kernels that saturate 8-bit weight pairs
    // on x86 without VNNI, so its output is not the file's exact arithmetic there (OrtCpu).
    assumeTrue(
        OrtCpu.exactU8S8(), "ONNX Runtime's u8s8 kernels are not exact on this CPU (no VNNI)");
    QatConfig c =
        QatConfig.builder()
            .weights(8, 0, true)
            .activations(true, false, "minmax")
            .schedule(2e-5, 20)
            .batchSize(8)
            .build();
    assertOrtMatchesFakeQuant(c, "QuantizeLinear", 0.05);
  }

  @Test
  void w8a8QatEndsAtLeastAsCloseAsStaticPtq() throws Exception {
    // ONNX Runtime fuses the QDQ pairs into u8s8 integer kernels that saturate 8-bit weight pairs
    // on x86 without VNNI, so its output is not the file's exact arithmetic there (OrtCpu).
    assumeTrue(
        OrtCpu.exactU8S8(), "ONNX Runtime's u8s8 kernels are not exact on this CPU (no VNNI)");
    ModelGraph fp32 = TinyModels.encoder(ENCODER);
    ModelGraph ptq = fp32.copy();
    new StaticPtqPass(new StaticPtqConfig(null, "minmax", 99.999, 0.01, false, false))
        .apply(ptq, context(fp32));
    ModelGraph qat = fp32.copy();
    new QatPass(
            QatConfig.builder()
                .weights(8, 0, true)
                .activations(true, false, "minmax")
                .schedule(2e-5, 40)
                .batchSize(8)
                .validation(0.125, 10)
                .build())
        .apply(qat, context(fp32));
    double ePtq = relativeError(fp32, ptq);
    double eQat = relativeError(fp32, qat);
    System.out.printf("[qat tiny W8A8] held-out relative error PTQ %.6f, QAT %.6f%n", ePtq, eQat);
    assertThat(eQat).isLessThan(ePtq); // measured
  }
}
