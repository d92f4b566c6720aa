package dev.compress.api.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.canonical.Canonicalizer;
import dev.compress.api.canonical.MiniLmModels;
import dev.compress.api.graph.ValueInfo.Dim;
import dev.compress.api.tensor.DataType;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The per-operator rules: existence at the imported opset, attributes, input counts. */
class OpsetCheckTest {
  /** x -> nodes -> y, importing {@code opset} for the default domain. */
  private static ModelGraph model(long opset, Node... nodes) {
    Graph g = new Graph("g");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, List.of(Dim.of(2), Dim.of(4))));
    g.outputs().add(ValueInfo.tensor("y", DataType.FLOAT, List.of()));
    g.nodes().addAll(List.of(nodes));
    ModelGraph m = new ModelGraph(8, g);
    m.opsetImports().put("", opset);
    return m;
  }

  private static Node unsqueezeWithAxesAttribute() {
    return Node.of("u", "Unsqueeze", List.of("x"), List.of("y")).put(Attribute.ofInts("axes", 0));
  }

  @ParameterizedTest
  @ValueSource(strings = {MiniLmModels.OPSET14, MiniLmModels.OPSET11})
  void bothMiniLmExportsConformAndEveryOperatorIsKnown(String which) throws Exception {
    ModelGraph m = MiniLmModels.read(which);
    OpsetCheck.Result r = OpsetCheck.check(m);
    assertThat(r.violations()).isEmpty();
    assertThat(r.notChecked()).isEmpty();
    assertThat(OpsetCheck.minimumDefaultOpset(m)).isEqualTo(9); // Erf, the newest operator there
  }

  @ParameterizedTest
  @ValueSource(strings = {MiniLmModels.OPSET14, MiniLmModels.OPSET11})
  void theCanonicalFormNeedsOpset17AndConformsOnceRaised(String which) throws Exception {
    ModelGraph m = MiniLmModels.read(which);
    long opset = m.opset("").orElseThrow();
    Canonicalizer.canonicalize(m);
    OpsetCheck.Result r = OpsetCheck.check(m);
    assertThat(r.violations())
        .hasSize(13); // the 13 LayerNormalizations; com.microsoft::Gelu is fine
    assertThat(r.violations())
        .allSatisfy(v -> assertThat(v.node().opType()).isEqualTo("LayerNormalization"));
    assertThat(r.summary())
        .isEqualTo(
            "graph 'torch_jit': node '/embeddings/LayerNorm/LayerNormalization'"
                + " (LayerNormalization, ai.onnx opset "
                + opset
                + "): operator LayerNormalization is defined from ai.onnx opset 17"
                + " (and 12 more violations)");
    assertThat(OpsetCheck.minimumDefaultOpset(m)).isEqualTo(17);
    OpsetUpgrade.upgrade(m, 17);
    assertThat(OpsetCheck.check(m).violations()).isEmpty();
  }

  @Test
  void anAttributeThatBecameAnInputIsAViolationFromThatOpset() {
    assertThat(OpsetCheck.check(model(11, unsqueezeWithAxesAttribute())).ok()).isTrue();
    OpsetCheck.Result r = OpsetCheck.check(model(13, unsqueezeWithAxesAttribute()));
    assertThat(r.violations()).hasSize(2); // the attribute, and one input where 13 takes two
    assertThat(r.violations().get(0).message())
        .isEqualTo(
            "graph 'g': node 'u' (Unsqueeze, ai.onnx opset 13): attribute 'axes' is not defined for"
                + " Unsqueeze at opset 13 (signature of opset 13: no attributes)");
    assertThat(r.violations().get(1).detail()).isEqualTo("1 input, Unsqueeze at opset 13 takes 2");

    Node mean = Node.of("m", "ReduceMean", List.of("x"), List.of("y"));
    mean.put(Attribute.ofInts("axes", -1));
    assertThat(OpsetCheck.check(model(17, mean)).ok()).isTrue();
    assertThat(OpsetCheck.check(model(18, mean)).violations())
        .singleElement()
        .extracting(OpsetCheck.Violation::detail)
        .asString()
        .startsWith("attribute 'axes' is not defined for ReduceMean at opset 18");

    Node split = Node.of("s", "Split", List.of("x"), List.of("a", "b"));
    split.put(Attribute.ofInts("split", 2, 2));
    assertThat(OpsetCheck.check(model(11, split)).ok()).isTrue();
    assertThat(OpsetCheck.check(model(13, split)).ok()).isFalse();
  }

  @Test
  void inputCountsNotCountingTrailingOmittedInputs() {
    Node unsq = Node.of("u", "Unsqueeze", List.of("x", "axes"), List.of("y"));
    assertThat(OpsetCheck.check(model(11, unsq)).violations())
        .singleElement()
        .extracting(OpsetCheck.Violation::detail)
        .isEqualTo("2 inputs, Unsqueeze at opset 11 takes 1");
    // Clip(x, "", max): the omitted min in the middle counts, a trailing omitted one does not.
    assertThat(
            OpsetCheck.check(model(11, Node.of("c", "Clip", List.of("x", "", "hi"), List.of("y"))))
                .ok())
        .isTrue();
    assertThat(
            OpsetCheck.check(model(11, Node.of("c", "Clip", List.of("x", "", ""), List.of("y"))))
                .ok())
        .isTrue();
    assertThat(
            OpsetCheck.check(
                    model(11, Node.of("c", "Clip", List.of("x", "lo", "hi", "z"), List.of("y"))))
                .ok())
        .isFalse();
  }

  @Test
  void unknownOperatorsAreListedAsNotCheckedNotAsViolations() {
    Node custom = new Node("c", "Frobnicate", "my.domain", List.of("x"), List.of("h"));
    Node unknown = Node.of("u", "SomeFutureOp", List.of("h"), List.of("y"));
    ModelGraph m = model(14, custom, unknown);
    OpsetCheck.Result r = OpsetCheck.check(m);
    assertThat(r.ok()).isTrue();
    assertThat(r.notChecked()).containsExactly("SomeFutureOp", "my.domain::Frobnicate");
  }

  @Test
  void aContribOperatorNeedsItsDomainImported() {
    Node nbits =
        new Node("q", "MatMulNBits", "com.microsoft", List.of("x", "B", "S"), List.of("y"));
    nbits.put(Attribute.of("K", 4L)).put(Attribute.of("N", 2L)).put(Attribute.of("bits", 4L));
    nbits.put(Attribute.of("block_size", 16L));
    ModelGraph m = model(11, nbits);
    assertThat(OpsetCheck.check(m).violations())
        .singleElement()
        .extracting(OpsetCheck.Violation::message)
        .isEqualTo(
            "graph 'g': node 'q' (com.microsoft::MatMulNBits, com.microsoft opset 0): the model"
                + " does not import domain com.microsoft");
    m.opsetImports().put("com.microsoft", 1L);
    assertThat(OpsetCheck.check(m).ok()).isTrue();
    nbits.put(Attribute.of("transB", 1L));
    assertThat(OpsetCheck.check(m).violations()).singleElement().asString().contains("'transB'");
  }

  @Test
  void subgraphNodesAreCheckedAtTheModelsOpsets() {
    Graph then = new Graph("then");
    then.nodes().add(Node.of("ln", "LayerNormalization", List.of("x", "s"), List.of("t")));
    then.outputs().add(ValueInfo.tensor("t", DataType.FLOAT, List.of()));
    Graph otherwise = new Graph("else");
    otherwise.nodes().add(Node.of("id", "Identity", List.of("x"), List.of("e")));
    otherwise.outputs().add(ValueInfo.tensor("e", DataType.FLOAT, List.of()));
    Node branch = Node.of("if", "If", List.of("cond"), List.of("y"));
    branch.put(Attribute.of("then_branch", then)).put(Attribute.of("else_branch", otherwise));
    OpsetCheck.Result r = OpsetCheck.check(model(14, branch));
    assertThat(r.violations())
        .singleElement()
        .extracting(OpsetCheck.Violation::message)
        .isEqualTo(
            "graph 'g' > node 'if' (If).then_branch: node 'ln' (LayerNormalization, ai.onnx opset"
                + " 14): operator LayerNormalization is defined from ai.onnx opset 17");
    assertThat(OpsetCheck.check(model(17, branch)).ok()).isTrue();
  }

  @Test
  void aNewerOpsetThanTheTableChecksExistenceOnly() {
    // Cast gained round_mode at 24, past the table: not reported there, a violation at 21.
    Node cast =
        Node.of("c", "Cast", List.of("x"), List.of("y")).put(Attribute.of("round_mode", "up"));
    assertThat(OpsetCheck.check(model(24, cast)).ok()).isTrue();
    assertThat(OpsetCheck.check(model(21, cast)).ok()).isFalse();
  }

  @Test
  void theTableCoversWhatTheProjectWritesAndCarries() {
    Set<String> onnx = OpsetCheck.knownOperators().get("ai.onnx");
    assertThat(onnx).containsAll(OpsetUpgrade.UNCHANGED);
    assertThat(onnx)
        .contains("Squeeze", "Unsqueeze", "Split", "Dropout", "Softmax", "ReduceMean", "ReduceSum");
    assertThat(OpsetCheck.knownOperators().get("com.microsoft"))
        .contains("Gelu", "MatMulNBits", "DynamicQuantizeMatMul", "MatMulIntegerToFloat");
  }
}
