package dev.compress.api.layers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.canonical.Canonicalizer;
import dev.compress.api.canonical.MiniLmModels;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.layers.LinearLayer.Kind;
import dev.compress.api.layers.LinearLayer.Normalization;
import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LinearLayersTest {

  private static LinearLayer layer(List<LinearLayer> layers, String name) {
    return LinearLayers.find(layers, name).orElseThrow(() -> new AssertionError("no " + name));
  }

  @ParameterizedTest(name = "{0} canonicalized={1}")
  @CsvSource({"opset14,false", "opset14,true", "opset11,false", "opset11,true"})
  void miniLmLayersAndTheirContext(String which, boolean canonicalize) throws Exception {
    ModelGraph m = MiniLmModels.read(which);
    if (canonicalize) {
      Canonicalizer.canonicalize(m);
    }
    List<LinearLayer> layers = LinearLayers.of(m.graph());
    boolean pooler = which.equals(MiniLmModels.OPSET14);
    // 6 layers x (q, k, v, attention output, intermediate, output); the newer export adds the
    // pooler's Gemm. The attention-score MatMuls (two activations) are not layers.
    assertThat(layers).hasSize(36 + (pooler ? 1 : 0));
    assertThat(layers.stream().filter(l -> l.kind() == Kind.MATMUL)).hasSize(36);
    assertThat(layers).noneMatch(LinearLayer::nameSynthesized);

    String lnOp = canonicalize ? "LayerNormalization" : "Add_1";
    for (int i = 0; i < 6; i++) {
      String p = "/encoder/layer." + i + "/";
      String prevNorm =
          (i == 0 ? "/embeddings/LayerNorm/" : "/encoder/layer." + (i - 1) + "/output/LayerNorm/")
              + lnOp;
      Normalization expectedPrev =
          new Normalization(prevNorm, canonicalize ? "LayerNormalization" : "Add", !canonicalize);
      for (String proj : List.of("query", "key", "value")) {
        LinearLayer l = layer(layers, p + "attention/self/" + proj + "/MatMul");
        assertThat(l.kind()).isEqualTo(Kind.MATMUL);
        assertThat(l.layout()).isEqualTo(WeightLayout.IN_OUT);
        assertThat(l.weightShape()).containsExactly(384, 384);
        assertThat(l.weight()).startsWith("onnx::MatMul_");
        assertThat(l.weightFromConstantNode()).isFalse();
        assertThat(l.bias()).contains("encoder.layer." + i + ".attention.self." + proj + ".bias");
        assertThat(l.biasNode()).contains(p + "attention/self/" + proj + "/Add");
        assertThat(l.inputProducer()).contains(prevNorm);
        assertThat(l.norm()).contains(expectedPrev);
        assertThat(l.sharedInput())
            .containsExactlyInAnyOrderElementsOf(
                List.of("query", "key", "value").stream()
                    .filter(x -> !x.equals(proj))
                    .map(x -> p + "attention/self/" + x + "/MatMul")
                    .toList());
      }
      LinearLayer attnOut = layer(layers, p + "attention/output/dense/MatMul");
      assertThat(attnOut.inputProducer()).contains(p + "attention/self/Reshape_3");
      assertThat(attnOut.norm()).isEmpty();
      assertThat(attnOut.sharedInput()).isEmpty();

      LinearLayer inter = layer(layers, p + "intermediate/dense/MatMul");
      assertThat(inter.weightShape()).containsExactly(384, 1536);
      assertThat(inter.inFeatures()).isEqualTo(384);
      assertThat(inter.outFeatures()).isEqualTo(1536);
      assertThat(inter.norm().map(Normalization::node))
          .contains(p + "attention/output/LayerNorm/" + lnOp);

      LinearLayer out = layer(layers, p + "output/dense/MatMul");
      assertThat(out.weightShape()).containsExactly(1536, 384);
      assertThat(out.inFeatures()).isEqualTo(1536);
      assertThat(out.outFeatures()).isEqualTo(384);
      assertThat(out.inputProducer())
          .contains(p + "intermediate/intermediate_act_fn/" + (canonicalize ? "Gelu" : "Mul_1"));
      assertThat(out.norm()).isEmpty();
      assertThat(out.bias()).contains("encoder.layer." + i + ".output.dense.bias");
    }
    if (pooler) {
      LinearLayer g = layer(layers, "/pooler/dense/Gemm");
      assertThat(g.kind()).isEqualTo(Kind.GEMM);
      assertThat(g.layout()).isEqualTo(WeightLayout.OUT_IN); // transB=1
      assertThat(g.weight()).isEqualTo("pooler.dense.weight");
      assertThat(g.bias()).contains("pooler.dense.bias");
      assertThat(g.biasNode()).isEmpty();
      assertThat(g.inputProducer()).contains("/pooler/Gather"); // CLS token, after the last norm
      assertThat(g.norm()).isEmpty();
    }
  }

  /**
   * x -> Conv -> Relu -> depthwise Conv -> pool -> Flatten -> LayerNormalization -> {Gemm, MatMul}
   */
  @Test
  void convGemmGraphBuiltInCode() {
    Graph g = new Graph("cnn");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, null));
    g.putInitializer(Tensor.ofFloats("w1", new long[] {16, 3, 3, 3}, new float[16 * 27]));
    g.putInitializer(Tensor.ofFloats("b1", new long[] {16}, new float[16]));
    g.putInitializer(Tensor.ofFloats("w3", new long[] {16, 10}, new float[160]));
    g.putInitializer(Tensor.ofFloats("c3", new long[] {10}, new float[10]));
    g.putInitializer(Tensor.ofFloats("w4", new long[] {16, 4}, new float[64]));
    g.putInitializer(Tensor.ofFloats("w4b", new long[] {5}, new float[5]));
    g.putInitializer(Tensor.ofFloats("gamma", new long[] {16}, new float[16]));
    List<Node> n = g.nodes();
    n.add(Node.of("conv1", "Conv", List.of("x", "w1", "b1"), List.of("c1")));
    n.add(Node.of("relu", "Relu", List.of("c1"), List.of("r1")));
    n.add(
        Node.of("", "Constant", List.of(), List.of("w2"))
            .put(
                Attribute.of(
                    "value", Tensor.ofFloats("", new long[] {16, 1, 3, 3}, new float[144]))));
    n.add(
        Node.of("", "Conv", List.of("r1", "w2"), List.of("dw_out"))
            .put(Attribute.of("group", 16L)));
    n.add(Node.of("pool", "GlobalAveragePool", List.of("dw_out"), List.of("p")));
    n.add(Node.of("flat", "Flatten", List.of("p"), List.of("f")));
    n.add(Node.of("ln", "LayerNormalization", List.of("f", "gamma"), List.of("h")));
    n.add(Node.of("fc", "Gemm", List.of("h", "w3", "c3"), List.of("logits")));
    n.add(Node.of("", "MatMul", List.of("h", "w4"), List.of("mm_out")));
    // A bias of the wrong length is not this MatMul's bias.
    n.add(Node.of("odd", "Add", List.of("mm_out", "w4b"), List.of("mm_b")));
    // Two activations: not a linear layer.
    n.add(Node.of("gram", "MatMul", List.of("h", "logits"), List.of("gram_out")));

    List<LinearLayer> layers = LinearLayers.of(g);
    assertThat(layers)
        .extracting(LinearLayer::name)
        .containsExactly("conv1", "Conv@dw_out", "fc", "MatMul@mm_out");

    LinearLayer c1 = layers.get(0);
    assertThat(c1.kind()).isEqualTo(Kind.CONV);
    assertThat(c1.layout()).isEqualTo(WeightLayout.OUT_IN);
    assertThat(c1.outFeatures()).isEqualTo(16);
    assertThat(c1.inFeatures()).isEqualTo(27); // 3 channels x 3 x 3
    assertThat(c1.groups()).isEqualTo(1);
    assertThat(c1.bias()).contains("b1");
    assertThat(c1.inputProducer()).isEmpty(); // a graph input
    assertThat(c1.norm()).isEmpty();

    LinearLayer dw = layers.get(1);
    assertThat(dw.nameSynthesized()).isTrue();
    assertThat(dw.weightFromConstantNode()).isTrue();
    assertThat(dw.weightShape()).containsExactly(16, 1, 3, 3);
    assertThat(dw.inFeatures()).isEqualTo(9);
    assertThat(dw.groups()).isEqualTo(16);
    assertThat(dw.bias()).isEmpty();
    assertThat(dw.inputProducer()).contains("relu");

    LinearLayer fc = layers.get(2);
    assertThat(fc.kind()).isEqualTo(Kind.GEMM);
    assertThat(fc.layout()).isEqualTo(WeightLayout.IN_OUT); // transB=0
    assertThat(fc.inFeatures()).isEqualTo(16);
    assertThat(fc.outFeatures()).isEqualTo(10);
    assertThat(fc.bias()).contains("c3");
    assertThat(fc.norm()).contains(new Normalization("ln", "LayerNormalization", false));
    assertThat(fc.sharedInput()).containsExactly("MatMul@mm_out");

    LinearLayer mm = layers.get(3);
    assertThat(mm.nameSynthesized()).isTrue();
    assertThat(mm.bias()).isEmpty();
    assertThat(mm.biasNode()).isEmpty();
    assertThat(mm.sharedInput()).containsExactly("fc");
    assertThat(mm.norm().map(Normalization::node)).isEqualTo(Optional.of("ln"));

    // Gemm with transB=1 stores [out, in].
    g.node("fc").orElseThrow().put(Attribute.of("transB", 1L));
    g.putInitializer(Tensor.ofFloats("w3", new long[] {10, 16}, new float[160]));
    LinearLayer fcT = LinearLayers.find(LinearLayers.of(g), "fc").orElseThrow();
    assertThat(fcT.layout()).isEqualTo(WeightLayout.OUT_IN);
    assertThat(fcT.outFeatures()).isEqualTo(10);
    assertThat(fcT.inFeatures()).isEqualTo(16);
  }
}
