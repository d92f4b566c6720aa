package dev.compress.api.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelGraphCopyTest {

  private static ModelGraph model() {
    Graph body = new Graph("then");
    body.nodes().add(Node.of("inner", "Identity", List.of("x"), List.of("y")));
    Graph g = new Graph("g");
    g.putInitializer(Tensor.ofFloats("w", new long[] {2, 2}, new float[] {1, 2, 3, 4}));
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, null));
    g.outputs().add(ValueInfo.tensor("z", DataType.FLOAT, null));
    g.nodes().add(Node.of("mm", "MatMul", List.of("x", "w"), List.of("h")));
    Node iff = Node.of("if", "If", List.of("c"), List.of("z"));
    iff.put(Attribute.of("then_branch", body));
    g.nodes().add(iff);
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    m.metadata().put("k", "v");
    return m;
  }

  @Test
  void copyIsIndependentInStructureAndSharesTensors() {
    ModelGraph m = model();
    ModelGraph c = m.copy();

    assertThat(c.graph().initializers().get("w")).isSameAs(m.graph().initializers().get("w"));
    assertThat(c.opsetImports()).isEqualTo(m.opsetImports());
    assertThat(c.metadata()).isEqualTo(m.metadata());
    assertThat(c.graph().nodes()).hasSize(2);

    // edits of the copy do not reach the original
    c.graph().nodes().get(0).inputs().set(0, "other");
    c.graph().nodes().get(1).attribute("then_branch").orElseThrow().asGraph().nodes().clear();
    c.graph().putInitializer(Tensor.ofFloats("w", new long[] {1}, new float[] {9}));
    c.graph().nodes().add(Node.of("extra", "Relu", List.of("h"), List.of("r")));
    c.opsetImports().put("", 21L);

    assertThat(m.graph().nodes()).hasSize(2);
    assertThat(m.graph().nodes().get(0).inputs()).containsExactly("x", "w");
    assertThat(m.graph().nodes().get(1).attribute("then_branch").orElseThrow().asGraph().nodes())
        .hasSize(1);
    assertThat(m.graph().initializers().get("w").toFloatArray()).containsExactly(1, 2, 3, 4);
    assertThat(m.opset("")).hasValue(17);
  }
}
