package dev.compress.api.canonical;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.canonical.PatternGraphs.HalfAt;
import dev.compress.api.canonical.PatternGraphs.LnOptions;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.tensor.DataType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class CanonicalizerTest {
  private static final String S = "/encoder/layer.0/output/LayerNorm/";

  private static Node only(Graph g) {
    assertThat(g.nodes()).hasSize(1);
    return g.nodes().get(0);
  }

  @Test
  void fusesPlainLayerNorm() {
    ModelGraph m = PatternGraphs.layerNorm(S, LnOptions.plain(), 14);
    CanonicalizationReport r = Canonicalizer.canonicalize(m);

    assertThat(r.layerNorms()).isEqualTo(1);
    assertThat(r.gelus()).isZero();
    Node ln = only(m.graph());
    assertThat(ln.opType()).isEqualTo("LayerNormalization");
    assertThat(ln.domain()).isEmpty();
    assertThat(ln.name()).isEqualTo(S + "LayerNormalization");
    assertThat(ln.inputs()).containsExactly("x", "gamma", "beta");
    assertThat(ln.outputs()).containsExactly("y");
    assertThat(ln.intAttr("axis", 0)).isEqualTo(-1);
    assertThat(ln.floatAttr("epsilon", 0)).isEqualTo(1e-5f);
    assertThat(m.graph().initializers()).containsOnlyKeys("gamma", "beta");
    assertThat(m.opsetImports()).containsExactly(Map.entry("", 14L));
    // 9 pattern nodes + 2 Constant nodes out, 1 in.
    assertThat(r.nodesRemoved()).isEqualTo(10);
    assertThat(r.opsBefore()).containsEntry("ReduceMean", 2).containsEntry("Constant", 2);
    assertThat(r.opsAfter()).containsExactly(Map.entry("LayerNormalization", 1));
    assertThat(r.fusions().get(0).replacedNodes())
        .containsExactly(
            S + "ReduceMean",
            S + "Sub",
            S + "Pow",
            S + "ReduceMean_1",
            S + "Add",
            S + "Sqrt",
            S + "Div",
            S + "Mul",
            S + "Add_1");
  }

  @Test
  void fusesSwappedOperandsInitializerConstantsAndAxesInput() {
    ModelGraph m =
        PatternGraphs.layerNorm(S, new LnOptions(true, true, true, false, false, true, false), 18);
    CanonicalizationReport r = Canonicalizer.canonicalize(m);

    assertThat(r.layerNorms()).isEqualTo(1);
    Node ln = only(m.graph());
    assertThat(ln.inputs()).containsExactly("x", "gamma", "beta");
    assertThat(ln.floatAttr("epsilon", 0)).isEqualTo(1e-5f);
    // eps, exponent and both axes initializers were used only by the pattern.
    assertThat(r.initializersRemoved()).isEqualTo(4);
    assertThat(m.graph().initializers()).containsOnlyKeys("gamma", "beta");
  }

  @Test
  void fusesCastBeforePowAndDuplicatedSub() {
    ModelGraph m =
        PatternGraphs.layerNorm(S, new LnOptions(false, false, false, true, true, true, false), 11);
    assertThat(Canonicalizer.canonicalize(m).layerNorms()).isEqualTo(1);
    assertThat(only(m.graph()).inputs()).containsExactly("x", "gamma", "beta");
  }

  @Test
  void fusesMixedPrecisionLayerNormOnTheHalfPrecisionInput() {
    // x16 -> Cast(f32) -> statistics in f32 -> Cast(f16) -> Mul(gamma16) -> Add(beta16)
    ModelGraph m =
        PatternGraphs.layerNorm(
            S, new LnOptions(false, false, false, false, false, true, true), 14);
    assertThat(Canonicalizer.canonicalize(m).layerNorms()).isEqualTo(1);
    Node ln = only(m.graph()); // the root Cast became dead and was removed
    assertThat(ln.inputs()).containsExactly("x", "gamma", "beta");
  }

  @Test
  void mixedPrecisionWithUnknownInputTypeIsNotFused() {
    ModelGraph m =
        PatternGraphs.layerNorm(
            S, new LnOptions(false, false, false, false, false, true, true), 14);
    m.graph().inputs().set(0, new ValueInfo("x", 0, null, false, "", null, null, null));
    assertThat(Canonicalizer.canonicalize(m).changed()).isFalse();
  }

  @Test
  void fusesLayerNormWithoutBeta() {
    ModelGraph m =
        PatternGraphs.layerNorm(
            S, new LnOptions(false, false, false, false, false, false, false), 14);
    assertThat(Canonicalizer.canonicalize(m).layerNorms()).isEqualTo(1);
    Node ln = only(m.graph());
    assertThat(ln.inputs()).containsExactly("x", "gamma");
    assertThat(m.graph().initializers()).containsOnlyKeys("gamma", "beta"); // beta was never used
  }

  @ParameterizedTest
  @ValueSource(strings = {"d", "sq", "var", "ve", "std", "norm", "mean"})
  void intermediateWithAnotherConsumerIsNotFused(String value) {
    ModelGraph m = PatternGraphs.layerNorm(S, LnOptions.plain(), 14);
    m.graph().nodes().add(Node.of("spy", "Identity", List.of(value), List.of("spy_out")));
    m.graph().outputs().add(ValueInfo.tensor("spy_out", DataType.FLOAT, null));
    int before = m.graph().nodes().size();
    CanonicalizationReport r = Canonicalizer.canonicalize(m);
    assertThat(r.changed()).isFalse();
    assertThat(m.graph().nodes()).hasSize(before);
  }

  @Test
  void scaledValueWithAnotherConsumerEndsThePatternAtMul() {
    ModelGraph m = PatternGraphs.layerNorm(S, LnOptions.plain(), 14);
    m.graph().nodes().add(Node.of("spy", "Identity", List.of("scaled"), List.of("spy_out")));
    m.graph().outputs().add(ValueInfo.tensor("spy_out", DataType.FLOAT, null));
    assertThat(Canonicalizer.canonicalize(m).layerNorms()).isEqualTo(1);
    Node ln = m.graph().nodes().get(0);
    assertThat(ln.opType()).isEqualTo("LayerNormalization");
    assertThat(ln.inputs()).containsExactly("x", "gamma");
    assertThat(ln.outputs()).containsExactly("scaled");
    assertThat(m.graph().nodes().get(1).name()).isEqualTo(S + "Add_1");
  }

  @Test
  void intermediateThatIsAGraphOutputIsNotFused() {
    ModelGraph m = PatternGraphs.layerNorm(S, LnOptions.plain(), 14);
    m.graph().outputs().add(ValueInfo.tensor("std", DataType.FLOAT, null));
    assertThat(Canonicalizer.canonicalize(m).changed()).isFalse();
  }

  @Test
  void intermediateReadBySubgraphIsNotFused() {
    ModelGraph m = PatternGraphs.layerNorm(S, LnOptions.plain(), 14);
    Graph then = new Graph("then");
    then.nodes().add(Node.of("peek", "Identity", List.of("var"), List.of("t_out")));
    then.outputs().add(ValueInfo.tensor("t_out", DataType.FLOAT, null));
    Graph otherwise = new Graph("else");
    otherwise.nodes().add(Node.of("peek2", "Identity", List.of("x"), List.of("e_out")));
    otherwise.outputs().add(ValueInfo.tensor("e_out", DataType.FLOAT, null));
    m.graph()
        .putInitializer(
            dev.compress.api.tensor.Tensor.ofBytes("c", DataType.BOOL, new long[0], (byte) 1));
    m.graph()
        .nodes()
        .add(
            Node.of("if", "If", List.of("c"), List.of("if_out"))
                .put(Attribute.of("then_branch", then))
                .put(Attribute.of("else_branch", otherwise)));
    m.graph().outputs().add(ValueInfo.tensor("if_out", DataType.FLOAT, null));
    assertThat(Canonicalizer.canonicalize(m).changed()).isFalse();
  }

  @Test
  void wrongExponentOrAxisIsNotFused() {
    ModelGraph m = PatternGraphs.layerNorm(S, LnOptions.plain(), 14);
    Node pow = m.graph().node(S + "Constant").orElseThrow();
    pow.put(Attribute.of("value", dev.compress.api.tensor.Tensor.ofFloats("", new long[0], 3f)));
    assertThat(Canonicalizer.canonicalize(m).changed()).isFalse();

    ModelGraph m2 = PatternGraphs.layerNorm(S, LnOptions.plain(), 14);
    m2.graph().node(S + "ReduceMean").orElseThrow().put(Attribute.ofInts("axes", 1));
    assertThat(Canonicalizer.canonicalize(m2).changed()).isFalse();
  }

  @Test
  void nonNegativeAxesUseTheDeclaredRank() {
    ModelGraph m = PatternGraphs.layerNorm(S, LnOptions.plain(), 14);
    m.graph().node(S + "ReduceMean").orElseThrow().put(Attribute.ofInts("axes", 2));
    m.graph().node(S + "ReduceMean_1").orElseThrow().put(Attribute.ofInts("axes", 2));
    m.graph()
        .valueInfo()
        .add(ValueInfo.tensor("sq", DataType.FLOAT, m.graph().inputs().get(0).shape()));
    assertThat(Canonicalizer.canonicalize(m).layerNorms()).isEqualTo(1);
    assertThat(only(m.graph()).intAttr("axis", 0)).isEqualTo(-1);
  }

  @ParameterizedTest
  @EnumSource(HalfAt.class)
  void fusesGeluVariants(HalfAt half) {
    for (boolean mulForm : new boolean[] {false, true}) {
      for (boolean inits : new boolean[] {false, true}) {
        String scope = "/encoder/layer.0/intermediate/intermediate_act_fn/";
        ModelGraph m = PatternGraphs.gelu(scope, half, mulForm, inits, 11);
        CanonicalizationReport r = Canonicalizer.canonicalize(m);
        assertThat(r.gelus()).as("%s mul=%s inits=%s", half, mulForm, inits).isEqualTo(1);
        Node gelu = only(m.graph());
        assertThat(gelu.qualifiedOpType()).isEqualTo("com.microsoft::Gelu");
        assertThat(gelu.name()).isEqualTo(scope + "Gelu");
        assertThat(gelu.inputs()).containsExactly("x");
        assertThat(gelu.outputs()).containsExactly("y");
        assertThat(m.graph().initializers()).isEmpty();
        assertThat(m.opsetImports()).containsEntry("com.microsoft", 1L).containsEntry("", 11L);
      }
    }
  }

  @Test
  void geluWithWrongConstantOrExtraConsumerIsNotFused() {
    ModelGraph m = PatternGraphs.gelu("g/", HalfAt.AFTER, false, false, 14);
    m.graph()
        .node("g/Constant")
        .orElseThrow()
        .put(Attribute.of("value", dev.compress.api.tensor.Tensor.ofFloats("", new long[0], 1.5f)));
    assertThat(Canonicalizer.canonicalize(m).changed()).isFalse();
    assertThat(m.opsetImports()).doesNotContainKey("com.microsoft");

    ModelGraph m2 = PatternGraphs.gelu("g/", HalfAt.AFTER, false, false, 14);
    m2.graph().outputs().add(ValueInfo.tensor("erf", DataType.FLOAT, null));
    assertThat(Canonicalizer.canonicalize(m2).changed()).isFalse();
  }

  @Test
  void isIdempotentAndKeepsNamesUnique() {
    // Two LayerNorms in the same scope, chained, then a GELU.
    ModelGraph m = PatternGraphs.layerNorm("/ln/", LnOptions.plain(), 14);
    ModelGraph second = PatternGraphs.layerNorm("/ln/", LnOptions.plain(), 14);
    Graph g = m.graph();
    for (Node n : second.graph().nodes()) {
      rename(n, "2");
      g.nodes().add(n);
    }
    g.putInitializer(second.graph().initializers().get("gamma").withName("gamma2"));
    g.putInitializer(second.graph().initializers().get("beta").withName("beta2"));
    g.outputs().set(0, ValueInfo.tensor("y2", DataType.FLOAT, null));

    CanonicalizationReport r = Canonicalizer.canonicalize(m);
    assertThat(r.layerNorms()).isEqualTo(2);
    assertThat(PatternGraphs.names(g))
        .containsExactly("/ln/LayerNormalization", "/ln/LayerNormalization_1");
    assertThat(g.nodes().get(1).inputs()).containsExactly("y", "gamma2", "beta2");

    CanonicalizationReport again = Canonicalizer.canonicalize(m);
    assertThat(again.changed()).isFalse();
    assertThat(again.nodesRemoved()).isZero();
    assertThat(again.opsAfter()).isEqualTo(r.opsAfter());
  }

  /** Suffixes every value name except the shared input's, chaining the copy after the first. */
  private static void rename(Node n, String suffix) {
    for (int i = 0; i < n.inputs().size(); i++) {
      String v = n.inputs().get(i);
      n.inputs().set(i, v.equals("x") ? "y" : v + suffix);
    }
    n.outputs().replaceAll(v -> v + suffix);
  }

  @Test
  void scopeIsTheCommonPrefixUpToTheLastSlash() {
    Node a = Node.of("/a/LayerNorm/Sub", "Sub", List.of(), List.of());
    Node b = Node.of("/a/LayerNorm/Sub_1", "Sub", List.of(), List.of());
    Node c = Node.of("", "Sub", List.of(), List.of());
    assertThat(Canonicalizer.scopeOf(List.of(a, b, c))).isEqualTo("/a/LayerNorm/");
    assertThat(Canonicalizer.scopeOf(List.of(c))).isEmpty();
    Node d = Node.of("ln_sub", "Sub", List.of(), List.of());
    Node e = Node.of("ln_pow", "Pow", List.of(), List.of());
    assertThat(Canonicalizer.scopeOf(List.of(d, e))).isEqualTo("ln_");
  }
}
