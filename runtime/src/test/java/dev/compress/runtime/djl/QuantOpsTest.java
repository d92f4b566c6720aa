package dev.compress.runtime.djl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The quantization operators against ONNX Runtime, and each fused kernel pattern against the same
 * graph run node by node ({@code optQuantizedKernels(false)}) and against ONNX Runtime.
 */
class QuantOpsTest {
  static byte[] randomBytes(long seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static float[] positive(long seed, int n, float lo, float hi) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = lo + r.nextFloat() * (hi - lo);
    }
    return v;
  }

  static Tensor u8(String name, long[] shape, byte... v) {
    return Tensor.ofBytes(name, DataType.UINT8, shape, v);
  }

  static Tensor s8(String name, long[] shape, byte... v) {
    return Tensor.ofBytes(name, DataType.INT8, shape, v);
  }

  static long[] dims(long... d) {
    return d;
  }

  @Test
  void dequantizeLinearPerTensorPerAxisAndBlocked() throws Exception {
    for (DataType t : new DataType[] {DataType.INT8, DataType.UINT8}) {
      ModelGraph m =
          TestGraphs.opset(21)
              .input("q", t, 6, 10)
              .init(Tensor.ofFloats("s", dims(), 0.05f))
              .init(Tensor.ofBytes("z", t, dims(), (byte) 3))
              .init(Tensor.ofFloats("sa", dims(10), positive(1, 10, 0.01f, 0.1f)))
              .init(Tensor.ofBytes("za", t, dims(10), randomBytes(2, 10)))
              .init(Tensor.ofFloats("s0", dims(6), positive(3, 6, 0.01f, 0.1f)))
              .init(Tensor.ofFloats("sb", dims(6, 3), positive(4, 18, 0.01f, 0.1f)))
              .init(Tensor.ofBytes("zb", t, dims(6, 3), randomBytes(5, 18)))
              .node("DequantizeLinear", List.of("q", "s", "z"), List.of("y1"))
              .node(
                  "DequantizeLinear",
                  List.of("q", "sa", "za"),
                  List.of("y2"),
                  Attribute.of("axis", 1L))
              .node("DequantizeLinear", List.of("q", "s0"), List.of("y3"), Attribute.of("axis", 0L))
              .node(
                  "DequantizeLinear",
                  List.of("q", "sb", "zb"),
                  List.of("y4"),
                  Attribute.of("axis", 1L),
                  Attribute.of("block_size", 4L))
              .output("y1", DataType.FLOAT)
              .output("y2", DataType.FLOAT)
              .output("y3", DataType.FLOAT)
              .output("y4", DataType.FLOAT)
              .build();
      OpHarness.agree(
          "DequantizeLinear " + t,
          m,
          Map.of("q", Tensor.ofBytes("q", t, dims(6, 10), randomBytes(6, 60))),
          1e-6);
    }
  }

  @Test
  void quantizeLinearAndDynamicQuantizeLinear() throws Exception {
    ModelGraph m =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, 5, 8)
            .init(Tensor.ofFloats("s", dims(), 0.013f))
            .init(u8("zu", dims(), (byte) 130))
            .init(s8("zs", dims(), (byte) -7))
            .init(Tensor.ofFloats("sa", dims(8), positive(7, 8, 0.005f, 0.02f)))
            .init(s8("za", dims(8), randomBytes(8, 8)))
            .node("QuantizeLinear", List.of("x", "s", "zu"), List.of("q1"))
            .node("QuantizeLinear", List.of("x", "s", "zs"), List.of("q2"))
            .node("QuantizeLinear", List.of("x", "s"), List.of("q3"))
            .node(
                "QuantizeLinear", List.of("x", "sa", "za"), List.of("q4"), Attribute.of("axis", 1L))
            .node("DynamicQuantizeLinear", List.of("x"), List.of("dq", "ds", "dz"))
            .output("q1", DataType.UINT8)
            .output("q2", DataType.INT8)
            .output("q3", DataType.UINT8)
            .output("q4", DataType.INT8)
            .output("dq", DataType.UINT8)
            .output("ds", DataType.FLOAT)
            .output("dz", DataType.UINT8)
            .build();
    float[] x = TestGraphs.random(9, 40);
    for (int i = 0; i < x.length; i++) {
      x[i] *= 3; // some values saturate
    }
    OpHarness.agree("QuantizeLinear", m, Map.of("x", Tensor.ofFloats("x", dims(5, 8), x)), 0);
  }

  @Test
  void matMulIntegerWithZeroPoints() throws Exception {
    ModelGraph m =
        TestGraphs.opset(13)
            .input("a", DataType.UINT8, 2, 3, 7)
            .init(s8("b", dims(7, 5), randomBytes(10, 35)))
            .init(u8("az", dims(), (byte) 120))
            .init(s8("bz", dims(5), randomBytes(11, 5)))
            .init(s8("bz1", dims(), (byte) 4))
            .node("MatMulInteger", List.of("a", "b", "az", "bz"), List.of("y"))
            .node("MatMulInteger", List.of("a", "b", "az", "bz1"), List.of("y1"))
            .node("MatMulInteger", List.of("a", "b"), List.of("y2"))
            .output("y", DataType.INT32)
            .output("y1", DataType.INT32)
            .output("y2", DataType.INT32)
            .build();
    OpHarness.agree(
        "MatMulInteger", m, Map.of("a", u8("a", dims(2, 3, 7), randomBytes(12, 42))), 0);
  }

  /** A MatMulNBits model over random codes; K need not be a multiple of the block. */
  static ModelGraph matMulNBits(int k, int n, int block, boolean zeroPoints, boolean bias) {
    int blocks = (k + block - 1) / block;
    TestGraphs b =
        TestGraphs.opset(17)
            .domain("com.microsoft", 1)
            .input("x", DataType.FLOAT, -1, k)
            .init(
                u8(
                    "B",
                    dims(n, blocks, block / 2),
                    randomBytes(k * 31 + n, n * blocks * block / 2)))
            .init(Tensor.ofFloats("S", dims(n * blocks), positive(n, n * blocks, 0.01f, 0.05f)));
    List<String> in = new java.util.ArrayList<>(List.of("x", "B", "S"));
    if (zeroPoints || bias) {
      in.add(zeroPoints ? "Z" : "");
    }
    if (zeroPoints) {
      b.init(u8("Z", dims(n * ((blocks + 1) / 2)), randomBytes(block, n * ((blocks + 1) / 2))));
    }
    if (bias) {
      in.add("");
      in.add("bias");
      b.init(Tensor.ofFloats("bias", dims(n), TestGraphs.random(77, n)));
    }
    return b.node(
            "com.microsoft",
            "MatMulNBits",
            in,
            List.of("y"),
            Attribute.of("K", (long) k),
            Attribute.of("N", (long) n),
            Attribute.of("bits", 4L),
            Attribute.of("block_size", (long) block))
        .output("y", DataType.FLOAT)
        .build();
  }

  @Test
  void matMulNBitsMatchesOnnxRuntime() throws Exception {
    int[][] shapes = {{64, 8, 32}, {100, 17, 32}, {384, 40, 128}, {300, 9, 64}, {48, 5, 16}};
    for (int[] s : shapes) {
      for (boolean zp : new boolean[] {false, true}) {
        for (int rows : new int[] {1, 6, 70}) { // 1: fused kernel; 6, 70: dequantized panels
          ModelGraph m = matMulNBits(s[0], s[1], s[2], zp, false);
          Tensor x = TestGraphs.randomTensor("x", rows, rows, s[0]);
          OpHarness.agree(
              "MatMulNBits K" + s[0] + " N" + s[1] + " b" + s[2] + (zp ? " zp" : "") + " M" + rows,
              m,
              Map.of("x", x),
              2e-5);
        }
      }
    }
  }

  @Test
  void matMulNBitsOnThreeDimensionalInput() throws Exception {
    ModelGraph m = matMulNBits(128, 24, 32, true, false);
    Tensor x = TestGraphs.randomTensor("x", 5, 2, 3, 128);
    // 3-D input: declare the input rank to match
    m.graph().inputs().clear();
    m.graph().inputs().add(dev.compress.api.graph.ValueInfo.tensor("x", DataType.FLOAT, null));
    Map<String, Tensor> y = OpHarness.agree("MatMulNBits 3-D", m, Map.of("x", x), 2e-5);
    assertThat(y.get("y").shape()).containsExactly(2, 3, 24);
  }

  /**
   * {@code accuracy_level = 4} (ONNX Runtime's int8 compute) runs the kernel with activations
   * quantized to int8 per block: the result moves off the float product by the activation rounding
   * (small, not zero), at 1 row (fused kernel) and 6 rows (panels) alike, and stays near ONNX
   * Runtime's own result for the same model.
   */
  @Test
  void matMulNBitsAccuracyLevel4QuantizesActivations() throws Exception {
    for (int rows : new int[] {1, 6}) {
      ModelGraph f = matMulNBits(384, 40, 128, true, false);
      ModelGraph q = matMulNBits(384, 40, 128, true, false);
      q.graph().nodes().get(0).put(Attribute.of("accuracy_level", 4L));
      Tensor x = TestGraphs.randomTensor("x", 9 + rows, rows, 384);
      Tensor yf = OpHarness.djl(f, Map.of("x", x)).get("y");
      Tensor yq = OpHarness.djl(q, Map.of("x", x)).get("y");
      double diff = TestGraphs.maxAbsDiff(yq, yf);
      double scale =
          TestGraphs.maxAbsDiff(yf, Tensor.ofFloats("z", yf.shape(), new float[40 * rows]));
      assertThat(diff).as("rows " + rows + ": int8 activations change the result").isGreaterThan(0);
      assertThat(diff)
          .as("rows " + rows + ": by the activation rounding only")
          .isLessThan(0.02 * scale);
      assertThat(TestGraphs.maxAbsDiff(yq, OpHarness.ort(q, Map.of("x", x)).get("y")))
          .as("rows " + rows + ": near ONNX Runtime's accuracy_level 4")
          .isLessThan(0.02 * scale);
    }
  }
}
