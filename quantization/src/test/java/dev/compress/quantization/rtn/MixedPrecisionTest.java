package dev.compress.quantization.rtn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.ConfigException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.io.onnx.OnnxWriter;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.PassReport;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.TinyModels;
import dev.compress.quantization.grid.Granularity;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two quantization passes with targets/ignore in one pipeline: 8 bits for fc2, 4 elsewhere. */
class MixedPrecisionTest {
  @TempDir Path tmp;

  private static final RtnConfig INT8_FC2 =
      RtnConfig.builder()
          .targets(TinyModels.MLP_FC2)
          .bits(8)
          .granularity(Granularity.PER_CHANNEL)
          .groupSize(0)
          .symmetric(true)
          .build();
  private static final RtnConfig INT4_REST =
      RtnConfig.builder()
          .ignore(TinyModels.MLP_FC2)
          .bits(4)
          .granularity(Granularity.PER_GROUP)
          .groupSize(32)
          .symmetric(false)
          .build();

  private static String op(ModelGraph m, String name) {
    return m.graph().node(name).map(Node::opType).orElseThrow();
  }

  @Test
  void eightBitsForTheLastLayerThenFourBitsElsewhere() throws Exception {
    for (boolean eightFirst : new boolean[] {true, false}) {
      ModelGraph m = TinyModels.mlp(17, 64, 128, 16, 3, true);
      List<RtnConfig> order =
          eightFirst ? List.of(INT8_FC2, INT4_REST) : List.of(INT4_REST, INT8_FC2);
      PassReport second = null;
      for (RtnConfig c : order) {
        second = new RtnPass(c).apply(m, PassContext.of(0));
      }
      // The second pass's selector names the layer the first one quantized: not an error.
      assertThat(second.layersTouched()).hasSize(1);
      assertThat(op(m, TinyModels.MLP_FC1)).isEqualTo("MatMulNBits");
      assertThat(op(m, TinyModels.MLP_FC2)).isEqualTo("Gemm");
      assertThat(m.graph().nodes().stream().map(Node::opType)).contains("DequantizeLinear");
      Path file = tmp.resolve("mixed-" + eightFirst + ".onnx");
      OnnxWriter.write(m, file);
      Tensor x = TinyModels.mlpInput(1, 4, 64);
      ModelGraph ref = TinyModels.mlp(17, 64, 128, 16, 3, true);
      Path rf = tmp.resolve("ref.onnx");
      OnnxWriter.write(ref, rf);
      try (OrtExecutor q = OrtExecutor.builder().setModelPath(file).build();
          OrtExecutor f = OrtExecutor.builder().setModelPath(rf).build()) {
        float[] yq = q.forward(Map.of("x", x)).get("y").toFloatArray();
        float[] yf = f.forward(Map.of("x", x)).get("y").toFloatArray();
        double num = 0;
        double den = 0;
        for (int i = 0; i < yq.length; i++) {
          num += Math.pow(yq[i] - yf[i], 2);
          den += yf[i] * yf[i];
        }
        assertThat(num / den).isLessThan(0.01);
      }
    }
  }

  @Test
  void aTargetNamingAnAlreadyQuantizedLayerIsReportedAsSkipped() throws Exception {
    ModelGraph m = TinyModels.mlp(17, 64, 128, 16, 3, true);
    new RtnPass(INT8_FC2).apply(m, PassContext.of(0));
    RtnConfig all =
        RtnConfig.builder()
            .targets("re:.*")
            .bits(4)
            .granularity(Granularity.PER_GROUP)
            .groupSize(32)
            .symmetric(false)
            .build();
    PassReport r = new RtnPass(all).apply(m, PassContext.of(0));
    assertThat(r.layersTouched()).containsExactly(TinyModels.MLP_FC1);
    assertThat(r.layersSkipped()).hasSize(1);
    assertThat(r.layersSkipped().get(0).layer()).isEqualTo(TinyModels.MLP_FC2);
    assertThat(r.layersSkipped().get(0).reason()).contains("already quantized");
    // Only already-quantized layers left: nothing to do, still not an error.
    RtnConfig onlyFc2 =
        RtnConfig.builder()
            .targets(TinyModels.MLP_FC2)
            .bits(4)
            .granularity(Granularity.PER_GROUP)
            .groupSize(32)
            .symmetric(false)
            .build();
    assertThat(new RtnPass(onlyFc2).apply(m, PassContext.of(0)).layersTouched()).isEmpty();
  }

  @Test
  void aSelectorMatchingNothingIsStillAnError() throws Exception {
    ModelGraph m = TinyModels.mlp(17, 64, 128, 16, 3, true);
    new RtnPass(INT8_FC2).apply(m, PassContext.of(0));
    RtnConfig bad =
        RtnConfig.builder()
            .targets("/nope/MatMul")
            .ignore("re:.*pooler.*")
            .bits(4)
            .granularity(Granularity.PER_GROUP)
            .groupSize(32)
            .symmetric(false)
            .build();
    assertThatThrownBy(() -> new RtnPass(bad).apply(m, PassContext.of(0)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("targets[0] '/nope/MatMul' matches no linear layer")
        .hasMessageContaining("ignore[0] 're:.*pooler.*' matches no linear layer");
  }

  @Test
  void quantizedLayerNamesCoverBothFormats() throws Exception {
    ModelGraph m = TinyModels.mlp(17, 64, 128, 16, 3, true);
    new RtnPass(INT8_FC2).apply(m, PassContext.of(0));
    assertThat(QuantizedLayers.names(m.graph())).containsExactly(TinyModels.MLP_FC2);
    new RtnPass(INT4_REST).apply(m, PassContext.of(0));
    assertThat(QuantizedLayers.names(m.graph()))
        .containsExactlyInAnyOrder(TinyModels.MLP_FC1, TinyModels.MLP_FC2);
  }
}
