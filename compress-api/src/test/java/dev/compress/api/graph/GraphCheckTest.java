package dev.compress.api.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.GraphCheck.Kind;
import dev.compress.api.graph.GraphCheck.Problem;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rules of {@link GraphCheck} on graphs built in code; file-level cases are in io.onnx. */
class GraphCheckTest {
  static ModelGraph model(Graph g) {
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", 17L);
    return m;
  }

  static Graph graph(String name, String... inputs) {
    Graph g = new Graph(name);
    for (String i : inputs) {
      g.inputs().add(ValueInfo.tensor(i, DataType.FLOAT, null));
    }
    return g;
  }

  static List<Kind> kinds(ModelGraph m) {
    return GraphCheck.problems(m).stream().map(Problem::kind).toList();
  }

  /** A Loop whose body reads its own inputs and an outer value, and outputs an outer value. */
  @Test
  void loopBodiesSeeTheirInputsAndTheOuterScope() {
    Graph g = graph("main", "x", "trip", "cond");
    g.nodes().add(Node.of("scale", "Relu", List.of("x"), List.of("s")));
    Graph body = graph("body", "i", "c_in", "acc_in");
    body.nodes().add(Node.of("add", "Add", List.of("acc_in", "s"), List.of("acc_out")));
    body.nodes().add(Node.of("keep", "Identity", List.of("c_in"), List.of("c_out")));
    body.outputs().add(ValueInfo.tensor("c_out", DataType.BOOL, null));
    body.outputs().add(ValueInfo.tensor("acc_out", DataType.FLOAT, null));
    body.outputs().add(ValueInfo.tensor("s", DataType.FLOAT, null)); // a scan output read outside
    Node loop = Node.of("loop", "Loop", List.of("trip", "cond", "x"), List.of("acc", "ss"));
    loop.put(Attribute.of("body", body));
    g.nodes().add(loop);
    g.outputs().add(ValueInfo.tensor("acc", DataType.FLOAT, null));
    assertThat(GraphCheck.problems(model(g))).isEmpty();
  }

  @Test
  void everyProblemIsListedAndTheSummaryCountsTheRest() {
    Graph g = graph("main", "x", "x");
    g.nodes().add(Node.of("a", "Add", List.of("x", "nothing", ""), List.of("y")));
    g.nodes().add(Node.of("b", "Neg", List.of("b_out"), List.of("b_out"))); // reads itself
    g.putInitializer(Tensor.ofFloats("w", new long[] {1}, 1f));
    g.initializers().put("alias", Tensor.ofFloats("w", new long[] {1}, 1f));
    g.outputs().add(ValueInfo.tensor("z", DataType.FLOAT, null));
    ModelGraph m = model(g);
    assertThat(kinds(m))
        .containsExactly(
            Kind.DUPLICATE_VALUE,
            Kind.INITIALIZER_TYPE,
            Kind.UNDEFINED_INPUT,
            Kind.UNPRODUCED_OUTPUT,
            Kind.CYCLE);
    List<Problem> problems = GraphCheck.problems(m);
    assertThat(problems.get(0).message())
        .isEqualTo("graph 'main': graph input 'x' is declared twice");
    assertThat(problems.get(1).message())
        .isEqualTo("graph 'main': initializer stored as 'alias' is named 'w'");
    assertThat(problems.get(4).message())
        .isEqualTo(
            "graph 'main': nodes form a cycle: node 'b' (Neg) reads 'b_out' from node 'b' (Neg)");
    assertThat(problems.get(4).node().name()).isEqualTo("b");
    assertThat(GraphCheck.summary(problems))
        .isEqualTo("graph 'main': graph input 'x' is declared twice (and 4 more problems)");
  }

  @Test
  void sortingKeepsAnOrderThatIsAlreadyTopologicalAndRepairsSubgraphs() {
    Graph g = graph("main", "x", "cond");
    g.nodes().add(Node.of("p", "Relu", List.of("x"), List.of("p_out")));
    g.nodes().add(Node.of("q", "Relu", List.of("x"), List.of("q_out")));
    Graph then = graph("then");
    then.nodes().add(Node.of("t2", "Neg", List.of("t1_out"), List.of("t2_out")));
    then.nodes().add(Node.of("t1", "Neg", List.of("q_out"), List.of("t1_out")));
    then.outputs().add(ValueInfo.tensor("t2_out", DataType.FLOAT, null));
    Graph otherwise = graph("else");
    otherwise.outputs().add(ValueInfo.tensor("p_out", DataType.FLOAT, null));
    Node iff = Node.of("if", "If", List.of("cond"), List.of("y"));
    iff.put(Attribute.of("then_branch", then)).put(Attribute.of("else_branch", otherwise));
    g.nodes().add(iff);
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, null));
    ModelGraph m = model(g);
    assertThat(GraphCheck.errors(m)).isEmpty();
    assertThat(GraphCheck.problems(m))
        .singleElement()
        .extracting(Problem::message)
        .isEqualTo(
            "graph 'main' > node 'if' (If).then_branch: nodes are not in topological order: node"
                + " 't2' (Neg) reads 't1_out', which node 't1' (Neg) computes later");
    assertThat(GraphCheck.sortNodes(m)).isEqualTo(1);
    assertThat(then.nodes()).extracting(Node::name).containsExactly("t1", "t2");
    assertThat(g.nodes()).extracting(Node::name).containsExactly("p", "q", "if");
    assertThat(GraphCheck.problems(m)).isEmpty();
    assertThat(GraphCheck.sortNodes(m)).isZero();
  }
}
