package dev.compress.runtime.djl;

import static dev.compress.runtime.djl.OpHarness.agree;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Matrix products, reductions (axes by attribute or input per opset) and softmax semantics. */
class LinearReduceSoftmaxOpsTest {

  @Test
  void batchedMatMulAndGemmWithAllAttributes() throws Exception {
    ModelGraph m =
        TestGraphs.opset(14)
            .input("x", DataType.FLOAT, 2, 5, 8)
            .input("a", DataType.FLOAT, 8, 4)
            .init(TestGraphs.randomTensor("w", 11, 8, 6))
            .init(TestGraphs.randomTensor("b", 12, 6, 8))
            .init(TestGraphs.randomTensor("c", 13, 6))
            .node("MatMul", List.of("x", "w"), List.of("y"))
            .node(
                "Gemm",
                List.of("a", "b", "c"),
                List.of("g"),
                Attribute.of("alpha", 0.5f),
                Attribute.of("beta", 2f),
                Attribute.of("transA", 1L),
                Attribute.of("transB", 1L))
            .output("y", DataType.FLOAT)
            .output("g", DataType.FLOAT)
            .build();
    Tensor a = TestGraphs.randomTensor("a", 14, 8, 4);
    // measured 2.4e-7 (y), 6.0e-8 (g): summation order
    Map<String, Tensor> out =
        agree(
            "MatMul/Gemm", m, Map.of("x", TestGraphs.randomTensor("x", 15, 2, 5, 8), "a", a), 1e-5);
    assertThat(out.get("g").shape()).containsExactly(4, 6);
    // g[0][0] = 0.5 * sum_k a[k][0] * b[0][k] + 2 * c[0]
    float[] av = a.toFloatArray();
    float[] bv = TestGraphs.random(12, 48);
    double expected = 2 * TestGraphs.random(13, 6)[0];
    for (int k = 0; k < 8; k++) {
      expected += 0.5 * av[k * 4] * bv[k];
    }
    assertThat((double) out.get("g").toFloatArray()[0]).isCloseTo(expected, within(1e-5));
  }

  @Test
  void reductionsTakeAxesFromAttributesOrInputsByOpset() throws Exception {
    Tensor x = TestGraphs.randomTensor("x", 21, 2, 3, 4);
    ModelGraph old =
        TestGraphs.opset(11)
            .input("x", DataType.FLOAT, 2, 3, 4)
            .node("ReduceMean", List.of("x"), List.of("m"), Attribute.ofInts("axes", -1))
            .node(
                "ReduceSum",
                List.of("x"),
                List.of("s"),
                Attribute.ofInts("axes", 0, 2),
                Attribute.of("keepdims", 0L))
            .node("ReduceMax", List.of("x"), List.of("mx"), Attribute.ofInts("axes", 1, 2))
            .output("m", DataType.FLOAT)
            .output("s", DataType.FLOAT)
            .output("mx", DataType.FLOAT)
            .build();
    Map<String, Tensor> a = agree("Reduce-11", old, Map.of("x", x), 1e-6); // measured 0
    assertThat(a.get("m").shape()).containsExactly(2, 3, 1);
    assertThat(a.get("s").shape()).containsExactly(3);
    assertThat(a.get("mx").shape()).containsExactly(2, 1, 1);

    ModelGraph v18 =
        TestGraphs.opset(18)
            .input("x", DataType.FLOAT, 2, 3, 4)
            .init(Tensor.ofLongs("ax", new long[] {2}, 0, -1))
            .node("ReduceMean", List.of("x", "ax"), List.of("m"), Attribute.of("keepdims", 0L))
            .node("ReduceSum", List.of("x"), List.of("all"))
            .output("m", DataType.FLOAT)
            .output("all", DataType.FLOAT)
            .build();
    Map<String, Tensor> b = agree("Reduce-18", v18, Map.of("x", x), 1e-6); // measured 0
    assertThat(b.get("m").shape()).containsExactly(3);
    assertThat(b.get("all").shape()).containsExactly(1, 1, 1);
    float[] xs = x.toFloatArray();
    double m0 = 0;
    for (int i = 0; i < 2; i++) {
      for (int k = 0; k < 4; k++) {
        m0 += xs[i * 12 + k];
      }
    }
    assertThat((double) b.get("m").toFloatArray()[0]).isCloseTo(m0 / 8, within(1e-6));
  }

  @Test
  void softmaxBeforeOpset13FlattensFromTheAxisAfterItUsesOneAxis() throws Exception {
    Tensor x = TestGraphs.randomTensor("x", 31, 2, 3, 4);
    ModelGraph v11 =
        TestGraphs.opset(11)
            .input("x", DataType.FLOAT, 2, 3, 4)
            .node("Softmax", List.of("x"), List.of("y"), Attribute.of("axis", 1L))
            .node("LogSoftmax", List.of("x"), List.of("l"))
            .output("y", DataType.FLOAT)
            .output("l", DataType.FLOAT)
            .build();
    ModelGraph v13 =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, 2, 3, 4)
            .node("Softmax", List.of("x"), List.of("y"), Attribute.of("axis", 1L))
            .node("LogSoftmax", List.of("x"), List.of("l"))
            .output("y", DataType.FLOAT)
            .output("l", DataType.FLOAT)
            .build();
    // measured <= 2.4e-7 (LogSoftmax at 13)
    float[] old = agree("Softmax-11", v11, Map.of("x", x), 1e-6).get("y").toFloatArray();
    float[] now = agree("Softmax-13", v13, Map.of("x", x), 1e-6).get("y").toFloatArray();
    // opset 11, axis 1: each batch row's 12 values sum to 1; opset 13: each (b, :, k) column does.
    double row = 0;
    for (int i = 0; i < 12; i++) {
      row += old[i];
    }
    assertThat(row).isCloseTo(1, within(1e-6));
    double column = now[0] + now[4] + now[8];
    assertThat(column).isCloseTo(1, within(1e-6));
    assertThat(old[0]).isNotCloseTo(now[0], within(1e-3f));
  }
}
