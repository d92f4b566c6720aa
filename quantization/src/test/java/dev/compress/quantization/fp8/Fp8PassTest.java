package dev.compress.quantization.fp8;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.OpsetUpgrade;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pass.ProgressListener;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.ptq.TinyEncoder;
import dev.compress.runtime.ort.OrtExecutor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Fp8PassTest {
  private static final int DIM = 32;

  private static float[] ort(ModelGraph m, Map<String, Tensor> in, String out) throws Exception {
    try (OrtExecutor e = OrtExecutor.builder().setModel(m).optIntraOpThreads(1).build()) {
      return e.forward(in).get(out).toFloatArray();
    }
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d;
  }

  @ParameterizedTest(name = "{0} perChannel={1}")
  @CsvSource({"E4M3FN, true", "E4M3FN, false", "E5M2, true", "E5M2, false"})
  void onnxRuntimeDequantizesExactlyOurCodes(Fp8Format f, boolean perChannel) throws Exception {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 8, 11);
    PassReport r =
        new Fp8Pass(
                Fp8Config.builder()
                    .format(f)
                    .perChannel(perChannel)
                    .activations(false)
                    .upgradeOpset(true)
                    .build())
            .apply(m, PassContext.of(0));
    assertThat(m.opset("").orElseThrow()).isEqualTo(19);
    assertThat(r.layersTouched()).hasSize(3);
    Node a = m.graph().node(TinyEncoder.A).orElseThrow();
    Node dq = GraphIndex.of(m.graph()).producer(a.input(1)).orElseThrow();
    Tensor w8 = m.graph().constant(dq.input(0)).orElseThrow();
    Tensor s = m.graph().constant(dq.input(1)).orElseThrow();
    assertThat(w8.dtype()).isEqualTo(f.dataType());
    assertThat(s.elementCount()).isEqualTo(perChannel ? DIM : 1);

    // Reference: the same graph in f32 with every weight replaced by decode(code) * scale.
    ModelGraph ref = TinyEncoder.build(DIM, DIM, 8, 11);
    for (String[] w :
        new String[][] {{TinyEncoder.A, "Wa"}, {TinyEncoder.B, "Wb"}, {TinyEncoder.OUT, "W2"}}) {
      Node n = m.graph().node(w[0]).orElseThrow();
      Node d = GraphIndex.of(m.graph()).producer(n.input(1)).orElseThrow();
      Tensor codes = m.graph().constant(d.input(0)).orElseThrow();
      float[] sc = m.graph().constant(d.input(1)).orElseThrow().toFloatArray();
      int axis = (int) d.intAttr("axis", 1);
      long[] shape = codes.shape();
      byte[] b = new byte[(int) codes.elementCount()];
      codes.data().get(b);
      float[] v = new float[b.length];
      for (int i = 0; i < b.length; i++) {
        int ch = axis == 1 ? (int) (i % shape[1]) : (int) (i / shape[1]);
        v[i] = f.decode(b[i]) * sc[sc.length == 1 ? 0 : ch];
      }
      ref.graph().putInitializer(Tensor.ofFloats(w[1], shape, v));
    }
    Map<String, Tensor> in = Map.of("x", TinyEncoder.input(3, 2, 6, DIM));
    float[] yq = ort(m, in, "y");
    float[] yr = ort(ref, in, "y");
    assertThat(maxAbsDiff(yq, yr)).isLessThanOrEqualTo(1e-5);
  }

  @Test
  void activationsTooRunInOnnxRuntimeCloseToFloat() throws Exception {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 8, 12);
    ModelGraph fp = TinyEncoder.build(DIM, DIM, 8, 12);
    PassContext ctx =
        new PassContext(
            0,
            Optional.of(TinyEncoder.calibration(3, 2, 8, DIM)),
            Optional.empty(),
            ProgressListener.NONE);
    new Fp8Pass(
            Fp8Config.builder()
                .format(Fp8Format.E4M3FN)
                .perChannel(true)
                .activations(true)
                .upgradeOpset(true)
                .build())
        .apply(m, ctx);
    assertThat(
            m.graph().nodes().stream()
                .filter(n -> n.opType().equals("Cast") && n.intAttr("to", 0) == 17)
                .count())
        .isEqualTo(2); // n (shared by a and b), r2
    Map<String, Tensor> in = Map.of("x", TinyEncoder.input(5, 2, 6, DIM));
    float[] yq = ort(m, in, "y");
    float[] yf = ort(fp, in, "y");
    double e = 0;
    double n = 0;
    for (int i = 0; i < yf.length; i++) {
      e += Math.pow(yq[i] - yf[i], 2);
      n += Math.pow(yf[i], 2);
    }
    System.out.printf(
        "[fp8] E4M3FN weights+activations: relative L2 error %.4f%n", Math.sqrt(e / n));
    assertThat(Math.sqrt(e / n)).isLessThan(0.08); // 3 mantissa bits: about 2^-4 relative per value
  }

  @Test
  void miniLmRaisedToOpset19ComputesTheSame() throws Exception {
    ModelGraph m = OnnxReader.read(BuiltinModels.resolve("builtin:all-minilm-l6-v2"));
    assertThat(m.opset("").orElseThrow()).isEqualTo(14);
    long[] ids = {101, 1996, 4248, 2829, 4419, 1012, 102};
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put("input_ids", Tensor.ofLongs("input_ids", new long[] {1, 7}, ids));
    in.put(
        "attention_mask", Tensor.ofLongs("attention_mask", new long[] {1, 7}, 1, 1, 1, 1, 1, 1, 1));
    in.put("token_type_ids", Tensor.ofLongs("token_type_ids", new long[] {1, 7}, new long[7]));
    String out = m.graph().outputs().get(0).name();
    float[] before = ort(m, in, out);
    int rewritten = OpsetUpgrade.upgrade(m, 19).rewritten();
    assertThat(rewritten).isEqualTo(26); // 13 layer norms x 2 ReduceMean
    assertThat(m.opset("").orElseThrow()).isEqualTo(19);
    assertThat(maxAbsDiff(ort(m, in, out), before)).isLessThanOrEqualTo(1e-5);
  }

  @Test
  void unsafeUpgradesAndMissingCalibrationAreErrors() {
    ModelGraph m = TinyEncoder.build(DIM, DIM, 8, 13);
    m.graph()
        .nodes()
        .add(0, Node.of("/weird", "Resize", java.util.List.of("x"), java.util.List.of("x2")));
    assertThat(OpsetUpgrade.problems(m, 19))
        .containsExactly(
            "node '/weird': operator Resize is not known to keep its meaning from opset 17 to 19");
    m.opsetImports().put("", 10L);
    assertThat(OpsetUpgrade.problems(m, 19).get(0)).contains("supported from opset 11");
    ModelGraph t = TinyEncoder.build(DIM, DIM, 8, 13);
    assertThatThrownBy(
            () ->
                new Fp8Pass(
                        Fp8Config.builder()
                            .format(Fp8Format.E5M2)
                            .perChannel(true)
                            .activations(false)
                            .upgradeOpset(false)
                            .build())
                    .apply(t, PassContext.of(0)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("needs opset >= 19");
    assertThatThrownBy(
            () ->
                new Fp8Pass(
                        Fp8Config.builder()
                            .format(Fp8Format.E5M2)
                            .perChannel(true)
                            .activations(true)
                            .upgradeOpset(true)
                            .build())
                    .apply(t, PassContext.of(0)))
        .hasMessageContaining("needs calibration data");
    assertThat(t.opset("").orElseThrow()).isEqualTo(17); // unchanged
    assertThat(t.graph().initializers().get("Wa").dtype()).isEqualTo(DataType.FLOAT);
  }
}
