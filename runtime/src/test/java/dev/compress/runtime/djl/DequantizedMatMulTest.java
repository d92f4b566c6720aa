package dev.compress.runtime.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.TestGraphs;
import dev.compress.runtime.kernels.Int4Linear;
import dev.compress.runtime.kernels.KernelPool;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Weight-only quantized products at 1, 8 and 128 rows (the fused kernel, the panel path, and from
 * {@link QuantOps#DEQUANT_ROWS} rows PyTorch's f32 GEMM over the weight the kernels dequantize)
 * equal {@code x · dequantize(W)} computed in double from the stored codes, to 1e-5 of the output's
 * largest magnitude.
 */
class DequantizedMatMulTest {
  private static final int[] ROWS = {1, 8, 128};

  @Test
  void largeRowsTakeTheDequantizedPath() {
    assertThat(QuantOps.DEQUANT_ROWS).isBetween(2, 128);
  }

  /** {@code W[i, o]} of a MatMulNBits node, in double, from B, scales and zero points. */
  private static double[][] int4Weight(ModelGraph m, int k, int n, int block) {
    byte[] b = QuantOps.bytes(m.graph().initializers().get("B"));
    float[] s = m.graph().initializers().get("S").toFloatArray();
    Tensor zt = m.graph().initializers().get("Z");
    byte[] z = zt == null ? null : QuantOps.bytes(zt);
    int blocks = (k + block - 1) / block;
    int zpRow = (blocks + 1) / 2;
    double[][] w = new double[k][n];
    for (int o = 0; o < n; o++) {
      for (int i = 0; i < k; i++) {
        int blk = i / block;
        int j = i % block;
        int code = (b[(o * blocks + blk) * (block / 2) + j / 2] >> (4 * (j & 1))) & 15;
        int zero = z == null ? 8 : (z[o * zpRow + blk / 2] >> (4 * (blk & 1))) & 15;
        w[i][o] = (double) s[o * blocks + blk] * (code - zero);
      }
    }
    return w;
  }

  /** Max |y - x·w| over max |x·w|, x {@code [rows, k]}. */
  private static double relativeError(Tensor x, double[][] w, Tensor y) {
    float[] xs = x.toFloatArray();
    float[] ys = y.toFloatArray();
    int k = w.length;
    int n = w[0].length;
    int rows = xs.length / k;
    assertThat(ys).hasSize(rows * n);
    double err = 0;
    double max = 0;
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < n; o++) {
        double ref = 0;
        for (int i = 0; i < k; i++) {
          ref += xs[r * k + i] * w[i][o];
        }
        err = Math.max(err, Math.abs(ys[r * n + o] - ref));
        max = Math.max(max, Math.abs(ref));
      }
    }
    return err / max;
  }

  @Test
  void int4MatMulNBitsEqualsTheDequantizedWeightProduct() throws Exception {
    // K = 100: padded blocks (the dequantized rows drop the padding); with and without zero points
    int[][] shapes = {{384, 48, 128}, {100, 17, 32}};
    for (int[] s : shapes) {
      for (boolean zp : new boolean[] {false, true}) {
        ModelGraph m = QuantOpsTest.matMulNBits(s[0], s[1], s[2], zp, false);
        double[][] w = int4Weight(m, s[0], s[1], s[2]);
        for (int rows : ROWS) {
          Tensor x = TestGraphs.randomTensor("x", 3 + rows, rows, s[0]);
          Tensor y = OpHarness.djl(m, Map.of("x", x)).get("y");
          assertThat(relativeError(x, w, y))
              .as("int4 K%d N%d g%d zp=%s rows %d", s[0], s[1], s[2], zp, rows)
              .isLessThan(1e-5);
        }
      }
    }
  }

  @Test
  void int8DequantizeLinearMatMulEqualsTheDequantizedWeightProduct() throws Exception {
    int k = 96;
    int n = 40;
    byte[] codes = QuantOpsTest.randomBytes(11, k * n);
    float[] scale = QuantOpsTest.positive(12, n, 0.01f, 0.05f);
    byte[] zero = QuantOpsTest.randomBytes(13, n);
    ModelGraph m =
        TestGraphs.opset(17)
            .input("x", DataType.FLOAT, -1, k)
            .init(Tensor.ofBytes("W", DataType.UINT8, new long[] {k, n}, codes))
            .init(Tensor.ofFloats("ws", new long[] {n}, scale))
            .init(Tensor.ofBytes("wz", DataType.UINT8, new long[] {n}, zero))
            .node(
                "DequantizeLinear",
                List.of("W", "ws", "wz"),
                List.of("Wd"),
                Attribute.of("axis", 1L))
            .node("MatMul", List.of("x", "Wd"), List.of("y"))
            .output("y", DataType.FLOAT)
            .build();
    double[][] w = new double[k][n];
    for (int i = 0; i < k; i++) {
      for (int o = 0; o < n; o++) {
        w[i][o] = (double) scale[o] * ((codes[i * n + o] & 0xff) - (zero[o] & 0xff));
      }
    }
    for (int rows : ROWS) {
      Tensor x = TestGraphs.randomTensor("x", 5 + rows, rows, k);
      Tensor y = OpHarness.djl(m, Map.of("x", x)).get("y");
      assertThat(relativeError(x, w, y)).as("int8 rows %d", rows).isLessThan(1e-5);
    }
    assertThat(m.graph().nodes()).extracting(Node::opType).contains("MatMul");
  }

  /**
   * Layers wider than a tile are multiplied tile by tile, and a kept weight is reused; the result
   * is the same.
   */
  @Test
  void columnTilesGiveTheSameProductAsOneTile() throws Exception {
    int k = 128;
    int n = 37;
    ModelGraph m = QuantOpsTest.matMulNBits(k, n, 32, true, false);
    Node node = m.graph().nodes().get(0);
    Int4Linear lin =
        Int4Linear.fromMatMulNBits(
            QuantOps.bytes(m.graph().initializers().get("B")),
            m.graph().initializers().get("S").toFloatArray(),
            QuantOps.bytes(m.graph().initializers().get("Z")),
            k,
            n,
            32);
    assertThat(node.opType()).isEqualTo("MatMulNBits");
    double[][] w = int4Weight(m, k, n, 32);
    Tensor x = TestGraphs.randomTensor("x", 21, 40, k);
    try (NDManager nd = NDManager.newBaseManager("PyTorch")) {
      NDArray xa = nd.create(x.toFloatArray(), new Shape(40, k));
      for (int tile : new int[] {k, 5 * k, 64 * k}) { // 1 column, 5 columns, all
        NDArray y =
            QuantOps.dequantizedMatMul(
                xa,
                k,
                n,
                tile,
                (o0, o1, dst) -> lin.dequantizeTransposed(o0, o1, dst, KernelPool.shared()));
        assertThat(y.getShape()).isEqualTo(new Shape(40, n));
        Tensor yt = Tensor.ofFloats("y", new long[] {40, n}, y.toFloatArray());
        assertThat(relativeError(x, w, yt)).as("tile %d floats", tile).isLessThan(1e-5);
      }
      // the opt-in kept weight (compress.kernels.dequantCache): the same product, twice
      QuantOps.CachedWeight kept =
          new QuantOps.CachedWeight(
              k, n, (o0, o1, dst) -> lin.dequantizeTransposed(o0, o1, dst, KernelPool.shared()));
      for (int call = 0; call < 2; call++) {
        Tensor yt = Tensor.ofFloats("y", new long[] {40, n}, kept.matMul(xa).toFloatArray());
        assertThat(relativeError(x, w, yt)).as("kept weight, call %d", call).isLessThan(1e-5);
      }
    }
  }
}
