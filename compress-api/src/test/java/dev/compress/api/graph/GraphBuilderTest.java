package dev.compress.api.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class GraphBuilderTest {

  private static Tensor w(String name, int in, int out) {
    return Tensor.ofFloats(name, new long[] {in, out}, new float[in * out]);
  }

  @Test
  void linearIsNamedAsExportersNameIt() {
    GraphBuilder b = GraphBuilder.create("g");
    String x = b.input("x", DataType.FLOAT, "batch", 4);
    String y =
        b.linear(
            "/encoder/layer.0/attention/self/query/",
            x,
            w("wq", 4, 3),
            Tensor.ofFloats("bq", new long[] {3}, 1, 2, 3));
    b.output(y, DataType.FLOAT);
    ModelGraph m = b.build();
    Graph g = m.graph();
    assertThat(g.nodes().stream().map(Node::name))
        .containsExactly(
            "/encoder/layer.0/attention/self/query/MatMul",
            "/encoder/layer.0/attention/self/query/Add");
    assertThat(g.nodes().getFirst().outputs())
        .containsExactly("/encoder/layer.0/attention/self/query/MatMul_output_0");
    assertThat(y).isEqualTo("/encoder/layer.0/attention/self/query/Add_output_0");
    assertThat(g.inputs().getFirst().typeString()).isEqualTo("FLOAT[batch, 4]");
    assertThat(m.opsetImports()).containsExactly(java.util.Map.entry("", 17L));
    assertThat(m.irVersion()).isEqualTo(8);
  }

  @Test
  void freshNamesNeverCollide() {
    GraphBuilder b = GraphBuilder.create("g");
    String x = b.input("x", DataType.FLOAT, 2);
    String a = b.op("Relu", null, List.of(x));
    String c = b.op("Relu", null, List.of(a));
    String s1 = b.scalar("/c", 1f);
    String s2 = b.scalar("/c", 2f);
    assertThat(List.of(a, c)).doesNotHaveDuplicates();
    assertThat(s1).isEqualTo("/c");
    assertThat(s2).isEqualTo("/c_1");
    assertThat(b.model().graph().nodes().stream().map(Node::name))
        .containsExactly("/Relu", "/Relu_1");
    assertThatThrownBy(() -> b.input("x", DataType.FLOAT))
        .hasMessageContaining("'x' is already used");
    assertThatThrownBy(() -> b.op("Relu", "/Relu", List.of(x)))
        .hasMessageContaining("node name '/Relu' is already used");
  }

  @Test
  void contribDomainIsImportedWhenUsedAndOpsetFollowsForms() {
    GraphBuilder b = GraphBuilder.create("g");
    String x = b.input("x", DataType.FLOAT, 2, 4);
    String g = b.geluFused("/gelu", x);
    String r = b.reduceMean("/mean", g, -1);
    b.output(b.rename(r, "y"), DataType.FLOAT);
    ModelGraph m = b.build();
    assertThat(m.opsetImports()).containsEntry(GraphBuilder.MS_DOMAIN, 1L);
    assertThat(m.graph().nodes().get(0).qualifiedOpType()).isEqualTo("com.microsoft::Gelu");
    assertThat(m.graph().nodes().get(1).intsAttr("axes", null)).containsExactly(-1);
    assertThat(m.graph().nodes().get(1).outputs()).containsExactly("y");

    GraphBuilder b20 = GraphBuilder.create("g").opset("ai.onnx", 20);
    String x20 = b20.input("x", DataType.FLOAT, 2, 4);
    String g20 = b20.geluFused("/gelu", x20);
    b20.output(b20.reduceMean("/mean", g20, -1), DataType.FLOAT);
    ModelGraph m20 = b20.build();
    assertThat(m20.opsetImports()).doesNotContainKey(GraphBuilder.MS_DOMAIN);
    assertThat(m20.graph().nodes().get(1).inputs()).hasSize(2);
  }

  @Test
  void headsSplitAndMergeWithExporterLayout() {
    GraphBuilder b = GraphBuilder.create("g");
    String x = b.input("x", DataType.FLOAT, "b", "t", 8);
    String k = b.splitHeads("/attn/k", x, 2, 4, true);
    b.output(b.mergeHeads("/attn", b.transpose("/back", k, 0, 1, 3, 2), 2, 4), DataType.FLOAT);
    Graph g = b.build().graph();
    assertThat(g.initializers().get("/attn/k/Reshape/shape").toLongArray())
        .containsExactly(0, 0, 2, 4);
    assertThat(g.node("/attn/k/Transpose").orElseThrow().intsAttr("perm", null))
        .containsExactly(0, 2, 3, 1);
    assertThat(g.initializers().get("/attn/Reshape/shape").toLongArray()).containsExactly(0, 0, 8);
  }

  @Test
  void buildRunsGraphCheck() {
    GraphBuilder b = GraphBuilder.create("bad");
    b.input("x", DataType.FLOAT, 2);
    b.op("Relu", "/r", List.of("missing"));
    b.output("nothing", DataType.FLOAT);
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("graph 'bad' is malformed")
        .hasMessageContaining("missing");
  }
}
