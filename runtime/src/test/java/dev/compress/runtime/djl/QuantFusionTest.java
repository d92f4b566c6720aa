package dev.compress.runtime.djl;

import static dev.compress.runtime.djl.QuantOpsTest.dims;
import static dev.compress.runtime.djl.QuantOpsTest.positive;
import static dev.compress.runtime.djl.QuantOpsTest.randomBytes;
import static dev.compress.runtime.djl.QuantOpsTest.s8;
import static dev.compress.runtime.djl.QuantOpsTest.u8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Each fused kernel pattern gives what the same graph computes node by node ({@code
 * optQuantizedKernels(false)}), and what ONNX Runtime computes; the fused executor holds no float
 * copy of the weights and releases every per-call array.
 */
class QuantFusionTest {
  private static final int K = 100;
  private static final int N = 37;

  private static Map<String, Tensor> run(
      ModelGraph m, Map<String, Tensor> in, boolean fused, Map<String, Integer> kinds)
      throws Exception {
    try (DjlExecutor ex = DjlExecutor.builder().setModel(m).optQuantizedKernels(fused).build()) {
      if (fused) {
        assertThat(ex.fusedKernels()).isEqualTo(kinds);
      } else {
        assertThat(ex.fusedKernels()).isEmpty();
      }
      return ex.forward(in);
    }
  }

  /** fused vs node-by-node (tolerance {@code tol}), and both vs ONNX Runtime. */
  private static void check(
      String label, ModelGraph m, Tensor x, Map<String, Integer> kinds, double tol, double ortTol)
      throws Exception {
    Map<String, Tensor> in = Map.of("x", x);
    Map<String, Tensor> fused = run(m, in, true, kinds);
    Map<String, Tensor> plain = run(m, in, false, kinds);
    Map<String, Tensor> ort = OpHarness.ort(m, in);
    for (String k : ort.keySet()) {
      double d = TestGraphs.maxAbsDiff(fused.get(k), plain.get(k));
      double o = TestGraphs.maxAbsDiff(fused.get(k), ort.get(k));
      System.out.printf(
          "[fusion] %-34s %-3s max|fused-unfused| = %.3g  max|fused-ort| = %.3g%n", label, k, d, o);
      assertThat(d).as(label + " " + k + " fused vs unfused").isLessThanOrEqualTo(tol);
      assertThat(o).as(label + " " + k + " fused vs ORT").isLessThanOrEqualTo(ortTol);
    }
  }

  @Test
  void int8WeightOnlyMatMulAndGemm() throws Exception {
    ModelGraph m =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, -1, K)
            .init(s8("W", dims(K, N), randomBytes(1, K * N)))
            .init(Tensor.ofFloats("ws", dims(N), positive(2, N, 0.001f, 0.01f)))
            .init(Tensor.ofFloats("bias", dims(N), TestGraphs.random(3, N)))
            .init(u8("Wt", dims(N, K), randomBytes(4, K * N)))
            .init(Tensor.ofFloats("wts", dims(N), positive(5, N, 0.001f, 0.01f)))
            .init(u8("wtz", dims(N), randomBytes(6, N)))
            .init(s8("Wp", dims(K, N), randomBytes(7, K * N)))
            .init(Tensor.ofFloats("wps", dims(), 0.004f))
            .node("DequantizeLinear", List.of("W", "ws"), List.of("Wd"), Attribute.of("axis", 1L))
            .node("MatMul", List.of("x", "Wd"), List.of("y0"))
            .node("Add", List.of("y0", "bias"), List.of("y"))
            .node(
                "DequantizeLinear",
                List.of("Wt", "wts", "wtz"),
                List.of("Wtd"),
                Attribute.of("axis", 0L))
            .node("Gemm", List.of("x", "Wtd", "bias"), List.of("g"), Attribute.of("transB", 1L))
            .node("DequantizeLinear", List.of("Wp", "wps"), List.of("Wpd"))
            .node("MatMul", List.of("x", "Wpd"), List.of("p"))
            .output("y", DataType.FLOAT)
            .output("g", DataType.FLOAT)
            .output("p", DataType.FLOAT)
            .build();
    for (int rows : new int[] {1, 5, 9, 70}) { // 70: above the kernel row limit
      check(
          "int8 weight-only M" + rows,
          m,
          TestGraphs.randomTensor("x", rows, rows, K),
          Map.of("int8-weight-only", 3),
          1e-5,
          1e-5);
    }
  }

  @Test
  void dynamicW8a8AsOnnxRuntimeQuantizeDynamicWritesIt() throws Exception {
    // Two projections share one DynamicQuantizeLinear (as Q, K, V do).
    ModelGraph m =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, 2, -1, K)
            // 7-bit weights: with full-range u8 activations from DynamicQuantizeLinear, ONNX
            // Runtime's AVX2 u8s8 kernel (vpmaddubsw, no VNNI) saturates pair sums of 8-bit
            // weights at int16, so its result is not the exact integer product there (its own
            // quantizer's reduce_range exists for this); 7-bit weights make every CPU exact.
            .init(s8("Wq", dims(K, N), sevenBit(randomBytes(11, K * N))))
            .init(Tensor.ofFloats("wqs", dims(N), positive(12, N, 0.001f, 0.01f)))
            .init(u8("Wk", dims(K, N), randomBytes(13, K * N)))
            .init(u8("wkz", dims(), (byte) 131))
            .init(Tensor.ofFloats("wks", dims(), 0.003f))
            .node("DynamicQuantizeLinear", List.of("x"), List.of("xq", "xs", "xz"))
            .node("MatMulInteger", List.of("xq", "Wq", "xz"), List.of("iq"))
            .node("Mul", List.of("xs", "wqs"), List.of("sq"))
            .node("Cast", List.of("iq"), List.of("fq"), Attribute.of("to", 1L))
            .node("Mul", List.of("fq", "sq"), List.of("q"))
            .node("MatMulInteger", List.of("xq", "Wk", "xz", "wkz"), List.of("ik"))
            .node("Mul", List.of("wks", "xs"), List.of("sk"))
            .node("Cast", List.of("ik"), List.of("fk"), Attribute.of("to", 1L))
            .node("Mul", List.of("sk", "fk"), List.of("k"))
            .output("q", DataType.FLOAT)
            .output("k", DataType.FLOAT)
            .build();
    for (int t : new int[] {1, 7}) {
      // identical integer arithmetic and the same single rescale: bit-exact with the unfused path
      check(
          "w8a8 dynamic T" + t,
          m,
          TestGraphs.randomTensor("x", t, 2, t, K),
          Map.of("w8a8-dynamic", 2),
          0,
          1e-5);
    }
  }

  @Test
  void staticQdqW8a8EvenWhenTheActivationIsAlsoReadElsewhere() throws Exception {
    ModelGraph m =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, -1, K)
            .init(Tensor.ofFloats("sx", dims(), 0.011f))
            .init(u8("zx", dims(), (byte) 127))
            .init(s8("W", dims(K, N), randomBytes(21, K * N)))
            .init(Tensor.ofFloats("ws", dims(N), positive(22, N, 0.001f, 0.01f)))
            .init(Tensor.ofFloats("bias", dims(N), TestGraphs.random(23, N)))
            .node("QuantizeLinear", List.of("x", "sx", "zx"), List.of("xq"))
            .node("DequantizeLinear", List.of("xq", "sx", "zx"), List.of("xd"))
            .node("DequantizeLinear", List.of("W", "ws"), List.of("Wd"), Attribute.of("axis", 1L))
            .node("MatMul", List.of("xd", "Wd"), List.of("y0"))
            .node("Add", List.of("y0", "bias"), List.of("y"))
            .node("ReduceSum", List.of("xd"), List.of("r"), Attribute.of("keepdims", 0L))
            .output("y", DataType.FLOAT)
            .output("r", DataType.FLOAT)
            .build();
    for (int rows : new int[] {1, 4, 6, 70}) { // 70: above the kernel row limit (PyTorch path)
      check(
          "w8a8 static M" + rows,
          m,
          TestGraphs.randomTensor("x", rows, rows, K),
          Map.of("w8a8-static", 1),
          1e-5,
          1e-5);
    }
  }

  @Test
  void fusedWeightsStayQuantizedAndCallsReleaseTheirArrays() throws Exception {
    ModelGraph m =
        TestGraphs.opset(13)
            .input("x", DataType.FLOAT, -1, K)
            .init(s8("W", dims(K, N), randomBytes(31, K * N)))
            .init(Tensor.ofFloats("ws", dims(N), positive(32, N, 0.001f, 0.01f)))
            .init(Tensor.ofFloats("bias", dims(N), TestGraphs.random(33, N)))
            .node("DequantizeLinear", List.of("W", "ws"), List.of("Wd"), Attribute.of("axis", 1L))
            .node("MatMul", List.of("x", "Wd"), List.of("y0"))
            .node("Add", List.of("y0", "bias"), List.of("y"))
            .output("y", DataType.FLOAT)
            .build();
    Tensor x = TestGraphs.randomTensor("x", 34, 3, K);
    try (DjlExecutor ex = DjlExecutor.create(m);
        DjlExecutor plain = DjlExecutor.builder().setModel(m).optQuantizedKernels(false).build()) {
      // bias, int8 codes and scale (for batches above the kernel row limit): no f32 weight
      assertThat(ex.residentArrayCount()).isEqualTo(3);
      assertThat(plain.residentArrayCount()).isEqualTo(3);
      float[] first = ex.forward(Map.of("x", x)).get("y").toFloatArray();
      for (int i = 0; i < 200; i++) {
        assertThat(ex.forward(Map.of("x", x)).get("y").toFloatArray()).containsExactly(first);
      }
      assertThat(ex.residentArrayCount()).isEqualTo(3);
      // capture of the absorbed DequantizeLinear and of the MatMul: the kernel's activation input
      var r = ex.forward(Map.of("x", x), Set.of("/MatMul_1", "/DequantizeLinear_0"));
      assertThat(r.activation("/MatMul_1").toFloatArray()).containsExactly(x.toFloatArray());
      assertThat(r.captured().get("/DequantizeLinear_0")).hasSize(1);
    }
  }

  /** Halves every byte (arithmetic shift): the values of a signed 7-bit range, -64..63. */
  private static byte[] sevenBit(byte[] b) {
    byte[] out = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = (byte) (b[i] >> 1);
    }
    return out;
  }
}
