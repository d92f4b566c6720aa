package dev.compress.runtime.djl;

import static dev.compress.runtime.djl.OpHarness.agree;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Shape arithmetic and indexing: exact int64 results, opset-dependent attribute/input forms. */
class ShapeOpsTest {

  private static final Tensor X = TestGraphs.randomTensor("x", 5, 2, 3, 4);

  @Test
  void shapeArithmeticAsExportersEmitItIsExactInt64() throws Exception {
    // x (2, 3, 4) -> reshape to (batch, 3, 2, 2) computed from Shape/Gather/Unsqueeze/Concat.
    ModelGraph m =
        TestGraphs.opset(15) // Shape's start attribute needs 15
            .input("x", DataType.FLOAT, -1, 3, 4)
            .constant(Tensor.ofLongs("zero", new long[0], 0))
            .constant(Tensor.ofLongs("axes0", new long[] {1}, 0))
            .constant(Tensor.ofLongs("tail", new long[] {3}, 3, 2, 2))
            .node("Shape", List.of("x"), List.of("s"))
            .node("Gather", List.of("s", "zero"), List.of("b"), Attribute.of("axis", 0L))
            .node("Unsqueeze", List.of("b", "axes0"), List.of("b1"))
            .node("Concat", List.of("b1", "tail"), List.of("shape"), Attribute.of("axis", 0L))
            .node("Reshape", List.of("x", "shape"), List.of("y"))
            .node("Shape", List.of("y"), List.of("ys"), Attribute.of("start", -2L))
            .output("b", DataType.INT64)
            .output("shape", DataType.INT64)
            .output("y", DataType.FLOAT)
            .output("ys", DataType.INT64)
            .build();
    Map<String, Tensor> out = agree("shape chain", m, Map.of("x", X), 0);
    assertThat(out.get("b").shape()).isEmpty(); // a scalar: Gather with a scalar index
    assertThat(out.get("b").toLongArray()).containsExactly(2);
    assertThat(out.get("shape").dtype()).isEqualTo(DataType.INT64);
    assertThat(out.get("shape").toLongArray()).containsExactly(2, 3, 2, 2);
    assertThat(out.get("ys").toLongArray()).containsExactly(2, 2);
    assertThat(out.get("y").toFloatArray()).containsExactly(X.toFloatArray());
  }

  @Test
  void gatherAlongAnyAxisWithNegativeAndMatrixIndices() throws Exception {
    Tensor idx = Tensor.ofLongs("i", new long[] {2, 2}, 0, -1, 2, 1);
    ModelGraph m =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, 2, 3, 4)
            .init(idx)
            .node("Gather", List.of("x", "i"), List.of("g1"), Attribute.of("axis", 1L))
            .node("Gather", List.of("x", "i"), List.of("g2"), Attribute.of("axis", -1L))
            .output("g1", DataType.FLOAT)
            .output("g2", DataType.FLOAT)
            .build();
    Map<String, Tensor> out = agree("Gather", m, Map.of("x", X), 0);
    assertThat(out.get("g1").shape()).containsExactly(2, 2, 2, 4);
    assertThat(out.get("g2").shape()).containsExactly(2, 3, 2, 2);
    float[] x = X.toFloatArray();
    // g2[0][0][0][1] = x[0][0][-1] = x[0][0][3]
    assertThat(out.get("g2").toFloatArray()[1]).isEqualTo(x[3]);
  }

  @Test
  void sliceClampsEndsAndWalksBackwards() throws Exception {
    ModelGraph m =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, 2, 3, 4)
            .init(Tensor.ofLongs("st", new long[] {2}, 1, -1))
            .init(Tensor.ofLongs("en", new long[] {2}, Long.MAX_VALUE, Long.MIN_VALUE))
            .init(Tensor.ofLongs("ax", new long[] {2}, 1, -1))
            .init(Tensor.ofLongs("sp", new long[] {2}, 1, -2))
            .init(Tensor.ofLongs("st2", new long[] {1}, 0))
            .init(Tensor.ofLongs("en2", new long[] {1}, -1))
            .node("Slice", List.of("x", "st", "en", "ax", "sp"), List.of("y"))
            .node("Slice", List.of("x", "st2", "en2"), List.of("z"))
            .output("y", DataType.FLOAT)
            .output("z", DataType.FLOAT)
            .build();
    Map<String, Tensor> out = agree("Slice", m, Map.of("x", X), 0);
    assertThat(out.get("y").shape()).containsExactly(2, 2, 2);
    float[] x = X.toFloatArray();
    // y[0][0] = x[0][1][3], x[0][1][1]
    assertThat(out.get("y").toFloatArray()[0]).isEqualTo(x[4 + 3]);
    assertThat(out.get("y").toFloatArray()[1]).isEqualTo(x[4 + 1]);
    assertThat(out.get("z").shape()).containsExactly(1, 3, 4);

    ModelGraph old =
        TestGraphs.opset(9)
            .input("x", DataType.FLOAT, 2, 3, 4)
            .node(
                "Slice",
                List.of("x"),
                List.of("y"),
                Attribute.ofInts("starts", 1),
                Attribute.ofInts("ends", 3),
                Attribute.ofInts("axes", 2))
            .output("y", DataType.FLOAT)
            .build();
    assertThat(agree("Slice-9", old, Map.of("x", X), 0).get("y").shape()).containsExactly(2, 3, 2);
  }

  @Test
  void squeezeAndUnsqueezeTakeAttributesBeforeOpset13AndInputsAfter() throws Exception {
    ModelGraph v11 =
        TestGraphs.opset(11)
            .input("x", DataType.FLOAT, 2, 3, 4)
            .node("Unsqueeze", List.of("x"), List.of("u"), Attribute.ofInts("axes", 0, -1))
            .node("Squeeze", List.of("u"), List.of("s"), Attribute.ofInts("axes", 0))
            .output("u", DataType.FLOAT)
            .output("s", DataType.FLOAT)
            .build();
    Map<String, Tensor> a = agree("Unsqueeze-11", v11, Map.of("x", X), 0);
    assertThat(a.get("u").shape()).containsExactly(1, 2, 3, 4, 1);
    assertThat(a.get("s").shape()).containsExactly(2, 3, 4, 1);
    ModelGraph v13 =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, 2, 3, 4)
            .init(Tensor.ofLongs("ax", new long[] {2}, 1, 3))
            .node("Unsqueeze", List.of("x", "ax"), List.of("u"))
            .node("Squeeze", List.of("u"), List.of("s"))
            .output("u", DataType.FLOAT)
            .output("s", DataType.FLOAT)
            .build();
    Map<String, Tensor> b = agree("Unsqueeze-13", v13, Map.of("x", X), 0);
    assertThat(b.get("u").shape()).containsExactly(2, 1, 3, 1, 4);
    assertThat(b.get("s").shape()).containsExactly(2, 3, 4);
  }

  @Test
  void expandConstantOfShapeRangeTransposeFlattenSplit() throws Exception {
    ModelGraph m =
        TestGraphs.opset(14)
            .input("x", DataType.FLOAT, 2, 3, 4)
            .input("n", DataType.INT64)
            .init(Tensor.ofLongs("shp", new long[] {3}, 3, 1, 1))
            .init(Tensor.ofLongs("big", new long[] {4}, 3, 1, 1, 1))
            .init(Tensor.ofLongs("one", new long[0], 1))
            .init(Tensor.ofLongs("zero", new long[0], 0))
            .init(Tensor.ofLongs("sizes", new long[] {2}, 1, 3))
            .node("Expand", List.of("x", "big"), List.of("e"))
            .node(
                "ConstantOfShape",
                List.of("shp"),
                List.of("c"),
                Attribute.of("value", Tensor.ofLongs("v", new long[] {1}, -7)))
            .node("Range", List.of("zero", "n", "one"), List.of("r"))
            .node("Transpose", List.of("x"), List.of("t"), Attribute.ofInts("perm", 2, 0, 1))
            .node("Transpose", List.of("x"), List.of("tr"))
            .node("Flatten", List.of("x"), List.of("f"), Attribute.of("axis", 2L))
            .node("Split", List.of("x", "sizes"), List.of("p0", "p1"), Attribute.of("axis", 2L))
            .node("Identity", List.of("x"), List.of("id"))
            .node("Dropout", List.of("x"), List.of("dr"))
            .output("e", DataType.FLOAT)
            .output("c", DataType.INT64)
            .output("r", DataType.INT64)
            .output("t", DataType.FLOAT)
            .output("tr", DataType.FLOAT)
            .output("f", DataType.FLOAT)
            .output("p0", DataType.FLOAT)
            .output("p1", DataType.FLOAT)
            .output("id", DataType.FLOAT)
            .output("dr", DataType.FLOAT)
            .build();
    Map<String, Tensor> out =
        agree("shape misc", m, Map.of("x", X, "n", Tensor.ofLongs("n", new long[0], 5)), 0);
    assertThat(out.get("e").shape()).containsExactly(3, 2, 3, 4);
    assertThat(out.get("c").toLongArray()).containsExactly(-7, -7, -7);
    assertThat(out.get("r").toLongArray()).containsExactly(0, 1, 2, 3, 4);
    assertThat(out.get("t").shape()).containsExactly(4, 2, 3);
    assertThat(out.get("tr").shape()).containsExactly(4, 3, 2);
    assertThat(out.get("f").shape()).containsExactly(6, 4);
    assertThat(out.get("p1").shape()).containsExactly(2, 3, 3);
    assertThat(out.get("dr").toFloatArray()).containsExactly(X.toFloatArray());
  }
}
