package dev.compress.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.graph.OpsetUpgrade;
import dev.compress.api.graph.ValueInfo;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.ort.OrtExecutor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link OpsetUpgrade} keeps what a model computes, checked in ONNX Runtime: the opset-11 MiniLM
 * export raised to 13 (per-channel DequantizeLinear) and 19 (FLOAT8), and a small graph of every
 * operator the upgrade rewrites.
 */
class OpsetUpgradeOrtTest {
  private static final Path OPSET11 =
      Path.of("target", "test-models", "minilm-opset11", "all-minilm-l6-v2.onnx");

  @ParameterizedTest
  @ValueSource(longs = {13, 19})
  void miniLmOpset11ComputesTheSameRaised(long target) throws Exception {
    ModelGraph m = OnnxReader.read(OPSET11);
    assertThat(m.opset("").orElseThrow()).isEqualTo(11);
    long[] ids = {101, 1996, 4248, 2829, 4419, 1012, 102, 0};
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put("input_ids", Tensor.ofLongs("input_ids", new long[] {1, 8}, ids));
    in.put(
        "attention_mask",
        Tensor.ofLongs("attention_mask", new long[] {1, 8}, 1, 1, 1, 1, 1, 1, 1, 0));
    in.put("token_type_ids", Tensor.ofLongs("token_type_ids", new long[] {1, 8}, new long[8]));
    String out = m.graph().outputs().get(0).name();
    float[] before = ort(m, in).get(out);

    OpsetUpgrade.Result r = OpsetUpgrade.upgrade(m, target);
    assertThat(m.opset("").orElseThrow()).isEqualTo(target);
    assertThat(m.irVersion()).isGreaterThanOrEqualTo(target >= 19 ? 9 : 7);
    // 51 Unsqueeze; at 19 also the 26 ReduceMean of the 13 decomposed layer norms. The six
    // attention Softmax nodes normalize over their last axis (rank 4, inferred from the graph), so
    // they stay as they are.
    assertThat(r.rewritten()).isEqualTo(target >= 19 ? 51 + 26 : 51);
    assertThat(r.changes()).noneMatch(c -> c.contains("Softmax"));
    double diff = maxAbsDiff(ort(m, in).get(out), before);
    System.out.printf("MiniLM opset 11 -> %d: max |diff| %.3g%n", target, diff);
    assertThat(diff).isLessThanOrEqualTo(1e-6); // measured 0 (the same kernels run)
  }

  /**
   * Every rewrite: Softmax over a middle axis of an input of unknown rank (rewritten through
   * Flatten/Reshape), Unsqueeze/Squeeze/ReduceSum axes, Split sizes, Dropout ratio.
   */
  @Test
  void everyRewrittenOperatorKeepsItsMeaning() throws Exception {
    ModelGraph m = rewrittenOps();
    Random r = new Random(3);
    float[] x = new float[2 * 3 * 4];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian() * 2;
    }
    Map<String, Tensor> in = Map.of("x", Tensor.ofFloats("x", new long[] {2, 3, 4}, x));
    Map<String, float[]> before = ort(m, in);

    OpsetUpgrade.Result res = OpsetUpgrade.upgrade(m, 13);
    assertThat(res.changes())
        .containsExactly(
            "/softmax (Softmax): axis 1 over the flattened input -> Flatten/Softmax/Reshape",
            "/unsqueeze (Unsqueeze): axes attribute -> input",
            "/squeeze (Squeeze): axes attribute -> input",
            "/split (Split): split attribute -> input",
            "/dropout (Dropout): ratio attribute -> input",
            "/reducesum (ReduceSum): axes attribute -> input");
    Map<String, float[]> after = ort(m, in);
    assertThat(after.keySet()).isEqualTo(before.keySet());
    for (String k : before.keySet()) {
      assertThat(maxAbsDiff(after.get(k), before.get(k))).as(k).isLessThanOrEqualTo(1e-6);
    }
    // at opset 11 Softmax(axis=1) normalizes over the last 3*4 values of each batch row
    float[] s = before.get("s");
    double sum = 0;
    for (int i = 0; i < 12; i++) {
      sum += s[i];
    }
    assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
  }

  @Test
  void unknownOperatorsAndOldOpsetsAreProblemsAndNothingChanges() {
    ModelGraph m = rewrittenOps();
    m.graph().nodes().add(Node.of("/up", "Upsample", List.of("x", "sc"), List.of("u")));
    int nodes = m.graph().nodes().size();
    assertThat(OpsetUpgrade.problems(m, 13))
        .containsExactly(
            "node '/up': operator Upsample is not known to keep its meaning from opset 11 to 13");
    assertThatThrownBy(() -> OpsetUpgrade.upgrade(m, 13))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(m.graph().nodes()).hasSize(nodes);
    assertThat(m.opset("").orElseThrow()).isEqualTo(11);
    m.opsetImports().put("", 9L);
    assertThat(OpsetUpgrade.problems(m, 13).get(0)).contains("supported from opset 11");
  }

  /** x [2,3,4] (rank not declared) through each operator the upgrade rewrites, at opset 11. */
  private static ModelGraph rewrittenOps() {
    Graph g = new Graph("ops");
    g.inputs().add(ValueInfo.tensor("x", DataType.FLOAT, null));
    List<Node> n = g.nodes();
    n.add(Node.of("/softmax", "Softmax", List.of("x"), List.of("s")).put(Attribute.of("axis", 1L)));
    n.add(
        Node.of("/unsqueeze", "Unsqueeze", List.of("x"), List.of("u"))
            .put(Attribute.ofInts("axes", 0)));
    n.add(
        Node.of("/squeeze", "Squeeze", List.of("u"), List.of("q"))
            .put(Attribute.ofInts("axes", 0)));
    n.add(
        Node.of("/split", "Split", List.of("q"), List.of("a", "b"))
            .put(Attribute.of("axis", 2L))
            .put(Attribute.ofInts("split", 1, 3)));
    n.add(
        Node.of("/dropout", "Dropout", List.of("b"), List.of("d"))
            .put(Attribute.of("ratio", 0.3f)));
    n.add(
        Node.of("/reducesum", "ReduceSum", List.of("d"), List.of("r"))
            .put(Attribute.ofInts("axes", 1))
            .put(Attribute.of("keepdims", 0L)));
    for (String o : List.of("s", "a", "d", "r")) {
      g.outputs().add(ValueInfo.tensor(o, DataType.FLOAT, null));
    }
    ModelGraph m = new ModelGraph(6, g);
    m.opsetImports().put("", 11L);
    return m;
  }

  private static Map<String, float[]> ort(ModelGraph m, Map<String, Tensor> in) throws Exception {
    try (OrtExecutor e = OrtExecutor.builder().setModel(m).optIntraOpThreads(1).build()) {
      Map<String, float[]> out = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> t : e.forward(in).entrySet()) {
        out.put(t.getKey(), t.getValue().toFloatArray());
      }
      return out;
    }
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    assertThat(b).hasSameSizeAs(a);
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs((double) a[i] - b[i]));
    }
    return d;
  }
}
