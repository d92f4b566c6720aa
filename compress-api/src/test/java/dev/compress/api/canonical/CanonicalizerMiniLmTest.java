package dev.compress.api.canonical;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.OpsetCheck;
import dev.compress.api.graph.OpsetUpgrade;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.io.onnx.OnnxWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CanonicalizerMiniLmTest {

  @ParameterizedTest
  @ValueSource(strings = {MiniLmModels.OPSET14, MiniLmModels.OPSET11})
  void fusesThirteenLayerNormsAndSixGelus(String which) throws Exception {
    ModelGraph m = MiniLmModels.read(which);
    long opset = m.opset("").orElseThrow();
    int constantsBefore = Canonicalizer.opHistogram(m.graph()).get("Constant");

    CanonicalizationReport r = Canonicalizer.canonicalize(m);
    System.out.println("MiniLM " + which + ": " + r.summary());
    System.out.println("  before: " + r.opsBefore());
    System.out.println("  after:  " + r.opsAfter());

    assertThat(r.layerNorms()).isEqualTo(13); // embeddings + 6 layers x (attention, output)
    assertThat(r.gelus()).isEqualTo(6);
    Map<String, String> changes = new TreeMap<>();
    changes.put("Add", "88 -> 56"); // eps and beta Adds of 13 norms, one Add per GELU
    changes.put("Constant", constantsBefore + " -> " + (constantsBefore - 13 * 2 - 6 * 3));
    changes.put("Div", "25 -> 6"); // the 6 attention-score scalings stay
    changes.put("Erf", "6 -> 0");
    changes.put("LayerNormalization", "0 -> 13");
    changes.put("Mul", "26 -> 1"); // the attention-mask Mul stays
    changes.put("Pow", "13 -> 0");
    changes.put("ReduceMean", "26 -> 0");
    changes.put("Sqrt", "13 -> 0");
    changes.put("Sub", "14 -> 1"); // the attention-mask Sub stays
    changes.put("com.microsoft::Gelu", "0 -> 6");
    assertThat(r.opChanges()).isEqualTo(changes);
    assertThat(r.nodesRemoved()).isEqualTo(13 * 11 + 6 * 8 - 19);
    assertThat(r.initializersRemoved()).isZero(); // eps and constants were Constant nodes
    assertThat(m.opsetImports()).containsEntry("", opset).containsEntry("com.microsoft", 1L);

    Node emb = m.graph().node("/embeddings/LayerNorm/LayerNormalization").orElseThrow();
    assertThat(emb.inputs())
        .containsExactly(
            "/embeddings/Add_1_output_0",
            "embeddings.LayerNorm.weight",
            "embeddings.LayerNorm.bias");
    assertThat(emb.floatAttr("epsilon", 0)).isEqualTo(1e-12f);
    assertThat(emb.intAttr("axis", 0)).isEqualTo(-1);
    for (int i = 0; i < 6; i++) {
      String l = "/encoder/layer." + i + "/";
      assertThat(m.graph().node(l + "attention/output/LayerNorm/LayerNormalization")).isPresent();
      assertThat(m.graph().node(l + "output/LayerNorm/LayerNormalization")).isPresent();
      Node gelu = m.graph().node(l + "intermediate/intermediate_act_fn/Gelu").orElseThrow();
      assertThat(gelu.inputs()).containsExactly(l + "intermediate/dense/Add_output_0");
      assertThat(gelu.outputs())
          .containsExactly(l + "intermediate/intermediate_act_fn/Mul_1_output_0");
    }
    // The last norm still produces the graph output.
    String out = m.graph().outputs().get(0).name();
    assertThat(GraphIndex.of(m.graph()).producer(out).orElseThrow().name())
        .isEqualTo("/encoder/layer.5/output/LayerNorm/LayerNormalization");

    CanonicalizationReport again = Canonicalizer.canonicalize(m);
    assertThat(again.changed()).isFalse();
    assertThat(again.opsAfter()).isEqualTo(r.opsAfter());

    // LayerNormalization is ONNX from opset 17: the writer refuses it at the export's opset,
    // naming the node, the operator and the opset, and writes nothing.
    Path dir = Files.createDirectories(Path.of("target", "canonical"));
    Path file = dir.resolve("minilm-" + which + "-canonical.onnx");
    Files.deleteIfExists(file);
    assertThatThrownBy(() -> OnnxWriter.write(m, file))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "node '/embeddings/LayerNorm/LayerNormalization' (LayerNormalization, ai.onnx opset "
                + opset
                + "): operator LayerNormalization is defined from ai.onnx opset 17")
        .hasMessageContaining("(and 12 more violations)");
    assertThat(file).doesNotExist();

    // Raised to 17, what is written reads back with the same operators and opset imports.
    assertThat(OpsetCheck.minimumDefaultOpset(m)).isEqualTo(17);
    OpsetUpgrade.upgrade(m, 17);
    OnnxWriter.write(m, file);
    ModelGraph back = OnnxReader.read(file);
    assertThat(Canonicalizer.opHistogram(back.graph())).isEqualTo(r.opsAfter());
    assertThat(back.opsetImports()).isEqualTo(m.opsetImports());
  }

  @ParameterizedTest
  @ValueSource(strings = {MiniLmModels.OPSET14, MiniLmModels.OPSET11})
  void patternsAreFoundWithoutFusing(String which) throws Exception {
    ModelGraph m = MiniLmModels.read(which);
    List<LayerNormPattern.Match> lns = LayerNormPattern.findAll(m.graph());
    assertThat(lns).hasSize(13);
    assertThat(lns.get(0).last().name()).isEqualTo("/embeddings/LayerNorm/Add_1");
    assertThat(lns.get(0).nodes()).hasSize(9);
    assertThat(lns).allSatisfy(x -> assertThat(x.epsilon()).isEqualTo(1e-12f));
    assertThat(GeluPattern.findAll(m.graph())).hasSize(6);
    Node add1 = m.graph().node("/encoder/layer.3/output/LayerNorm/Add_1").orElseThrow();
    assertThat(LayerNormPattern.matchEndingAt(m.graph(), add1)).isPresent();
    Node mul = m.graph().node("/encoder/layer.3/output/LayerNorm/Mul").orElseThrow();
    assertThat(LayerNormPattern.matchEndingAt(m.graph(), mul)).isEmpty(); // it ends at Add_1
  }
}
