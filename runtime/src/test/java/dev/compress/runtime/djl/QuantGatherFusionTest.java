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
 * A quantized embedding table ({@code Gather(DequantizeLinear(T), ids)}) fused to gather-then-
 * dequantize gives exactly what the graph computes node by node, and what ONNX Runtime computes,
 * including negative ids; the table stays quantized and calls release their arrays.
 */
class QuantGatherFusionTest {
  private static final int V = 50;
  private static final int D = 12;

  /**
   * int8 symmetric per-row table read by two Gathers (int64 ids, one with axis -2), uint8 per-row
   * table with zero point, and an int8 per-tensor table with a scalar zero point.
   */
  private static ModelGraph model() {
    return TestGraphs.opset(13)
        .input("ids", DataType.INT64, -1, -1)
        .input("ids2", DataType.INT64, -1)
        .init(s8("T", dims(V, D), randomBytes(41, V * D)))
        .init(Tensor.ofFloats("ts", dims(V), positive(42, V, 0.001f, 0.05f)))
        .init(u8("U", dims(V, D), randomBytes(43, V * D)))
        .init(Tensor.ofFloats("us", dims(V), positive(44, V, 0.001f, 0.05f)))
        .init(u8("uz", dims(V), randomBytes(45, V)))
        .init(s8("P", dims(V, D), randomBytes(46, V * D)))
        .init(Tensor.ofFloats("ps", dims(), 0.0123f))
        .init(s8("pz", dims(), (byte) -3))
        .node("DequantizeLinear", List.of("T", "ts"), List.of("Td"), Attribute.of("axis", 0L))
        .node("Gather", List.of("Td", "ids"), List.of("a"), Attribute.of("axis", 0L))
        .node("Gather", List.of("Td", "ids2"), List.of("a2"), Attribute.of("axis", -2L))
        .node("DequantizeLinear", List.of("U", "us", "uz"), List.of("Ud"), Attribute.of("axis", 0L))
        .node("Gather", List.of("Ud", "ids"), List.of("b"))
        .node("DequantizeLinear", List.of("P", "ps", "pz"), List.of("Pd"))
        .node("Gather", List.of("Pd", "ids"), List.of("c"))
        .output("a", DataType.FLOAT)
        .output("a2", DataType.FLOAT)
        .output("b", DataType.FLOAT)
        .output("c", DataType.FLOAT)
        .build();
  }

  private static Map<String, Tensor> inputs() {
    long[] ids = {0, 7, 49, -1, 3, -50, 12, 12}; // negative: counted from the end, as in ONNX
    return Map.of(
        "ids",
        Tensor.ofLongs("ids", dims(2, 4), ids),
        "ids2",
        Tensor.ofLongs("ids2", dims(3), 5, -2, 0));
  }

  @Test
  void gatherThenDequantizeEqualsDequantizeThenGatherAndOnnxRuntime() throws Exception {
    ModelGraph m = model();
    Map<String, Tensor> in = inputs();
    Map<String, Tensor> fused;
    Map<String, Tensor> plain;
    try (DjlExecutor ex = DjlExecutor.create(m)) {
      assertThat(ex.fusedKernels()).isEqualTo(Map.of("int8-gather", 4));
      fused = ex.forward(in);
    }
    try (DjlExecutor ex = DjlExecutor.builder().setModel(m).optQuantizedKernels(false).build()) {
      assertThat(ex.fusedKernels()).isEmpty();
      plain = ex.forward(in);
    }
    Map<String, Tensor> ort = OpHarness.ort(m, in);
    for (String k : List.of("a", "a2", "b", "c")) {
      assertThat(fused.get(k).shape()).as(k).isEqualTo(ort.get(k).shape());
      // the same per-element arithmetic as DequantizeLinear: bit-exact
      assertThat(fused.get(k).toFloatArray()).as(k).containsExactly(plain.get(k).toFloatArray());
      assertThat(TestGraphs.maxAbsDiff(fused.get(k), ort.get(k))).as(k).isLessThanOrEqualTo(1e-6);
    }
    // row -1 of the int8 table is row V-1: codes * scale
    float[] a = fused.get("a").toFloatArray();
    byte[] t = randomBytes(41, V * D);
    float[] ts = positive(42, V, 0.001f, 0.05f);
    for (int j = 0; j < D; j++) {
      assertThat(a[3 * D + j]).isEqualTo(t[(V - 1) * D + j] * ts[V - 1]);
    }
  }

  @Test
  void tableStaysQuantizedCallsReleaseArraysAndCaptureRecordsTheIds() throws Exception {
    ModelGraph m =
        TestGraphs.opset(13)
            .input("ids", DataType.INT64, -1)
            .init(u8("U", dims(V, D), randomBytes(51, V * D)))
            .init(Tensor.ofFloats("us", dims(V), positive(52, V, 0.001f, 0.05f)))
            .init(u8("uz", dims(V), randomBytes(53, V)))
            .node(
                "DequantizeLinear",
                List.of("U", "us", "uz"),
                List.of("Ud"),
                Attribute.of("axis", 0L))
            .node("Gather", List.of("Ud", "ids"), List.of("e"))
            .output("e", DataType.FLOAT)
            .build();
    Tensor ids = Tensor.ofLongs("ids", dims(3), 4, -4, 9);
    try (DjlExecutor ex = DjlExecutor.create(m)) {
      assertThat(ex.fusedKernels()).isEqualTo(Map.of("int8-gather", 1));
      // codes, scale, zero point: no f32 table
      assertThat(ex.residentArrayCount()).isEqualTo(3);
      float[] first = ex.forward(Map.of("ids", ids)).get("e").toFloatArray();
      for (int i = 0; i < 100; i++) {
        assertThat(ex.forward(Map.of("ids", ids)).get("e").toFloatArray()).containsExactly(first);
      }
      assertThat(ex.residentArrayCount()).isEqualTo(3);
      var r = ex.forward(Map.of("ids", ids), Set.of("/Gather_1", "/DequantizeLinear_0"));
      assertThat(r.activation("/Gather_1").toLongArray()).containsExactly(4, -4, 9);
      assertThat(r.captured().get("/DequantizeLinear_0")).isNotEmpty();
    }
  }

  @Test
  void notFusedWhenTheDequantizedTableHasAnotherReader() throws Exception {
    ModelGraph m =
        TestGraphs.opset(13)
            .input("ids", DataType.INT64, -1)
            .init(s8("T", dims(V, D), randomBytes(61, V * D)))
            .init(Tensor.ofFloats("ts", dims(V), positive(62, V, 0.001f, 0.05f)))
            .node("DequantizeLinear", List.of("T", "ts"), List.of("Td"), Attribute.of("axis", 0L))
            .node("Gather", List.of("Td", "ids"), List.of("e"))
            .node("ReduceSum", List.of("Td"), List.of("r"), Attribute.of("keepdims", 0L))
            .output("e", DataType.FLOAT)
            .output("r", DataType.FLOAT)
            .build();
    try (DjlExecutor ex = DjlExecutor.create(m)) {
      assertThat(ex.fusedKernels()).isEmpty();
    }
  }
}
