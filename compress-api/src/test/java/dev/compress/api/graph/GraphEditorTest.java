package dev.compress.api.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GraphEditorTest {
  /**
   * x -> MatMul(w) -> h -> Relu -> r -> MatMul(w) -> y; c = Constant, Add(r, c) -> z; outputs y, z.
   * The weight w is shared by both MatMuls.
   */
  private static Graph graph() {
    Graph g = new Graph("g");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, null));
    g.putInitializer(Tensor.ofFloats("w", new long[] {2, 2}, 1, 2, 3, 4));
    g.nodes().add(Node.of("mm1", "MatMul", List.of("x", "w"), List.of("h")));
    g.nodes().add(Node.of("relu", "Relu", List.of("h"), List.of("r")));
    g.nodes().add(Node.of("mm2", "MatMul", List.of("r", "w"), List.of("y")));
    g.nodes()
        .add(
            Node.of("const", "Constant", List.of(), List.of("c"))
                .put(Attribute.of("value", Tensor.ofFloats("cv", new long[] {2}, 5, 6))));
    g.nodes().add(Node.of("add", "Add", List.of("r", "c"), List.of("z")));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    g.outputs().add(ValueInfo.tensor("z", DataType.FLOAT, null));
    return g;
  }

  private static Set<Node> nodes(Node... ns) {
    Set<Node> s = Collections.newSetFromMap(new IdentityHashMap<>());
    s.addAll(List.of(ns));
    return s;
  }

  @Test
  void indexAnswersProducersConsumersAndConstants() {
    Graph g = graph();
    GraphIndex ix = GraphIndex.of(g);
    assertThat(ix.producer("h").map(Node::name)).contains("mm1");
    assertThat(ix.producer("h", "Relu")).isEmpty();
    assertThat(ix.consumers("w")).extracting(Node::name).containsExactly("mm1", "mm2");
    assertThat(ix.consumers("r")).extracting(Node::name).containsExactly("mm2", "add");
    assertThat(ix.soleConsumer("h").map(Node::name)).contains("relu");
    assertThat(ix.soleConsumer("y")).isEmpty(); // no consumer, and a graph output
    assertThat(ix.isGraphOutput("z")).isTrue();
    assertThat(ix.constant("c").orElseThrow().toFloatArray()).containsExactly(5f, 6f);
    assertThat(ix.constant("w")).isPresent();
    assertThat(ix.constant("h")).isEmpty();
    assertThat(ix.dtype("x")).contains(DataType.FLOAT);
  }

  @Test
  void freshNamesAvoidEveryNameInTheGraphAndEachOther() {
    Graph g = graph();
    g.valueInfo().add(ValueInfo.tensor("h_scale", DataType.FLOAT, null));
    GraphEditor ed = GraphEditor.of(g);
    assertThat(ed.freshName("new")).isEqualTo("new");
    assertThat(ed.freshName("new")).isEqualTo("new_1");
    assertThat(ed.freshName("x")).isEqualTo("x_1"); // a graph input (AWQ's generator missed them)
    assertThat(ed.freshName("relu")).isEqualTo("relu_1"); // a node name
    assertThat(ed.freshName("h_scale")).isEqualTo("h_scale_1"); // a declared value
  }

  @Test
  void freshNamesSeeSubgraphs() {
    Graph g = graph();
    Graph body = new Graph("body");
    body.nodes().add(Node.of("inner", "Identity", List.of("r"), List.of("inner_out")));
    body.outputs().add(ValueInfo.tensor("inner_out", DataType.FLOAT, null));
    g.nodes()
        .add(
            Node.of("if", "If", List.of("cond"), List.of("o"))
                .put(Attribute.of("then_branch", body)));
    GraphEditor ed = GraphEditor.of(g);
    assertThat(ed.freshName("inner_out")).isEqualTo("inner_out_1");
    assertThat(ed.index().isObservable("r")).isTrue(); // read by the subgraph
  }

  @Test
  void replaceConstantCopiesWhenSharedAndReplacesInPlaceOtherwise() {
    Graph g = graph();
    GraphEditor ed = GraphEditor.of(g);
    Node mm1 = g.node("mm1").orElseThrow();
    Node mm2 = g.node("mm2").orElseThrow();
    Tensor zeros = Tensor.ofFloats("ignored", new long[] {2, 2}, 0, 0, 0, 0);

    String name = ed.replaceConstant("w", zeros, nodes(mm1), "_pruned");
    assertThat(name).isEqualTo("w_pruned");
    assertThat(mm1.input(1)).isEqualTo("w_pruned");
    assertThat(mm2.input(1)).isEqualTo("w");
    assertThat(g.initializers().get("w").toFloatArray()).containsExactly(1f, 2f, 3f, 4f);
    assertThat(ed.index().consumers("w_pruned")).containsExactly(mm1);
    assertThat(ed.index().consumers("w")).containsExactly(mm2);

    // w is now read by mm2 alone: replaced in place, under its own name
    assertThat(ed.replaceConstant("w", zeros, nodes(mm2), "_pruned")).isEqualTo("w");
    assertThat(g.initializers().get("w").toFloatArray()).containsExactly(0f, 0f, 0f, 0f);

    // a Constant node's value is replaced in its attribute
    Node add = g.node("add").orElseThrow();
    ed.replaceConstant("c", Tensor.ofFloats("x", new long[] {2}, 7, 8), nodes(add), "_s");
    assertThat(ed.index().constant("c").orElseThrow().toFloatArray()).containsExactly(7f, 8f);
    assertThat(g.constant("c").orElseThrow().name()).isEqualTo("cv");
  }

  @Test
  void insertAndRewireKeepTheIndexCurrent() {
    Graph g = graph();
    GraphEditor ed = GraphEditor.of(g);
    Node relu = g.node("relu").orElseThrow();
    String s = ed.freshName("r_scale");
    ed.putInitializer(Tensor.ofFloats(s, new long[] {2}, 2, 2));
    String scaled = ed.freshName("r_scaled");
    Node mul = Node.of(ed.freshName("r_Mul"), "Mul", List.of("r", s), List.of(scaled));
    ed.insertAfter(relu, mul);
    Node add = g.node("add").orElseThrow();
    List<Node> rewired = ed.rewire("r", scaled, n -> n == add);

    assertThat(rewired).containsExactly(add);
    assertThat(g.nodes())
        .extracting(Node::name)
        .containsExactly("mm1", "relu", "r_Mul", "mm2", "const", "add");
    assertThat(add.inputs()).containsExactly("r_scaled", "c");
    assertThat(ed.index().consumers("r")).extracting(Node::name).containsExactly("mm2", "r_Mul");
    assertThat(ed.index().consumers("r_scaled")).containsExactly(add);
    assertThat(ed.index().producer("r_scaled")).containsSame(mul);
    // the same answers as a fresh snapshot
    GraphIndex fresh = GraphIndex.of(g);
    for (String v : List.of("r", "r_scaled", "h", "w", "c")) {
      assertThat(ed.index().producer(v)).isEqualTo(fresh.producer(v));
      assertThat(ed.index().consumers(v)).containsExactlyInAnyOrderElementsOf(fresh.consumers(v));
    }
  }

  @Test
  void removeUnreadRemovesDeadChainsButNothingStillRead() {
    Graph g = graph();
    GraphEditor ed = GraphEditor.of(g);
    Node add = g.node("add").orElseThrow();
    // z now comes straight from r: the Constant and nothing else becomes dead
    ed.remove(add);
    g.outputs().set(1, ValueInfo.tensor("r", DataType.FLOAT, null));
    ed.rescan();
    assertThat(ed.removeUnread(List.of("c", "r", "w"))).containsExactly("c");
    assertThat(g.nodes()).extracting(Node::name).containsExactly("mm1", "relu", "mm2");

    // with y gone as an output, mm2 and then w (still read by mm1) are considered
    g.outputs().remove(0);
    ed.rescan();
    assertThat(ed.removeUnread(List.of("y"))).containsExactly("y");
    assertThat(g.initializers()).containsKey("w");
    assertThat(g.nodes()).extracting(Node::name).containsExactly("mm1", "relu");
  }

  @Test
  void extractCutsTheConeBetweenValues() {
    ModelGraph m = new ModelGraph(8, graph());
    m.opsetImports().put("", 17L);
    ModelGraph sub =
        GraphEditor.extract(m, List.of("h"), List.of("y"), GraphEditor.Feeds.READ).orElseThrow();
    assertThat(sub.graph().nodes()).extracting(Node::name).containsExactly("relu", "mm2");
    assertThat(sub.graph().inputs()).extracting(ValueInfo::name).containsExactly("h");
    assertThat(sub.graph().initializers()).containsOnlyKeys("w");
    assertThat(sub.graph().outputs()).extracting(ValueInfo::name).containsExactly("y");
    assertThat(sub.opset("").getAsLong()).isEqualTo(17);

    // from the graph inputs, declaring every feed (the prefix of block calibration)
    ModelGraph prefix =
        GraphEditor.extract(m, List.of(), List.of("h"), GraphEditor.Feeds.ALL).orElseThrow();
    assertThat(prefix.graph().nodes()).extracting(Node::name).containsExactly("mm1");
    assertThat(prefix.graph().inputs()).extracting(ValueInfo::name).containsExactly("x");

    // a value that nothing defines
    Graph broken = graph();
    broken.nodes().get(0).inputs().set(0, "nowhere");
    assertThat(
            GraphEditor.extract(
                new ModelGraph(8, broken), List.of(), List.of("y"), GraphEditor.Feeds.ALL))
        .isEqualTo(Optional.empty());
  }
}
