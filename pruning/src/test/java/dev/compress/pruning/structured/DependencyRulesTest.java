package dev.compress.pruning.structured;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Concat/Split rules on a small MLP: along another axis they pass through, along the units not. */
class DependencyRulesTest {
  /** x[b, 8] -> MatMul W1[8, 6] -> Relu -> Concat(h, h, axis) -> MatMul W2[6, 4] -> y. */
  static ModelGraph mlp(long concatAxis) {
    Graph g = new Graph("mlp");
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 14L);
    g.inputs()
        .add(
            ValueInfo.tensor(
                "x", DataType.FLOAT, List.of(ValueInfo.Dim.of("b"), ValueInfo.Dim.of(8))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    g.putInitializer(Tensor.ofFloats("W1", new long[] {8, 6}, new float[48]));
    g.putInitializer(Tensor.ofFloats("W2", new long[] {6, 4}, new float[24]));
    g.nodes().add(Node.of("/fc1/MatMul", "MatMul", List.of("x", "W1"), List.of("h0")));
    g.nodes().add(Node.of("/relu", "Relu", List.of("h0"), List.of("h1")));
    g.nodes()
        .add(
            Node.of("/cat", "Concat", List.of("h1", "h1"), List.of("h2"))
                .put(Attribute.of("axis", concatAxis)));
    g.nodes()
        .add(
            Node.of("/split", "Split", List.of("h2"), List.of("h3", "h4"))
                .put(Attribute.of("axis", -2L)));
    g.nodes().add(Node.of("/add", "Add", List.of("h3", "h4"), List.of("h5")));
    g.nodes().add(Node.of("/fc2/MatMul", "MatMul", List.of("h5", "W2"), List.of("y")));
    return m;
  }

  @Test
  void concatAndSplitAlongAnotherAxisPassTheNeuronsThrough() {
    DependencyGroups dg = DependencyGroups.of(mlp(-2));
    assertThat(dg.groups()).hasSize(1);
    DependencyGroup g = dg.groups().get(0);
    assertThat(g.kind()).isEqualTo(DependencyGroup.Kind.NEURONS);
    assertThat(g.units()).isEqualTo(6);
    assertThat(g.name()).isEqualTo("/fc2/MatMul");
  }

  @Test
  void concatAlongTheUnitsIsRefusedNamingTheNode() {
    DependencyGroups dg = DependencyGroups.of(mlp(-1));
    assertThat(dg.groups()).isEmpty();
    assertThat(dg.unfollowable().get("/fc1/MatMul"))
        .contains("node '/cat' (Concat)")
        .contains("along the pruned axis");
  }
}
