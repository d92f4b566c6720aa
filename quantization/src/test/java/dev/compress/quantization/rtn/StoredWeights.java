package dev.compress.quantization.rtn;

import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.format.MatMulNBitsLayout;
import dev.compress.quantization.grid.QuantizedMatrix;

/**
 * Reads the integers a quantized model stores and turns them back into float weights, written
 * independently of the pass: the reference the ONNX Runtime comparisons run against.
 */
final class StoredWeights {
  private StoredWeights() {}

  /**
   * The float weight a layer node computes with, in the original weight's stored layout: for a
   * MatMulNBits node {@code [K, N]} (MatMul) or {@code [N, K]} (when {@code outIn}).
   */
  static float[] dequantized(ModelGraph m, String nodeName, boolean outIn) {
    Graph g = m.graph();
    Node n = g.node(nodeName).orElseThrow();
    if (n.opType().equals("MatMulNBits")) {
      QuantizedMatrix q = MatMulNBitsLayout.unpack(packed(g, n));
      float[] nk = q.dequantize();
      if (outIn) {
        return nk;
      }
      int rows = q.rows();
      int cols = q.cols();
      float[] kn = new float[nk.length];
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          kn[c * rows + r] = nk[r * cols + c];
        }
      }
      return kn;
    }
    Node dq = GraphIndex.of(g).producer(n.input(n.opType().equals("Gather") ? 0 : 1)).orElseThrow();
    if (!dq.opType().equals("DequantizeLinear")) {
      throw new AssertionError(nodeName + " reads " + dq);
    }
    return dequantizeLinear(g, dq);
  }

  static MatMulNBitsLayout.Packed packed(Graph g, Node n) {
    Tensor b = g.initializers().get(n.input(1));
    Tensor s = g.initializers().get(n.input(2));
    Tensor z = n.input(3).isEmpty() ? null : g.initializers().get(n.input(3));
    return new MatMulNBitsLayout.Packed(
        (int) n.intAttr("K", -1),
        (int) n.intAttr("N", -1),
        (int) n.intAttr("bits", -1),
        (int) n.intAttr("block_size", -1),
        bytes(b),
        s.toFloatArray(),
        z == null ? null : bytes(z));
  }

  /** ONNX DequantizeLinear on constant inputs, element by element. */
  static float[] dequantizeLinear(Graph g, Node dq) {
    Tensor x = g.initializers().get(dq.input(0));
    float[] scale = g.initializers().get(dq.input(1)).toFloatArray();
    float[] zp =
        dq.input(2).isEmpty()
            ? new float[scale.length]
            : g.initializers().get(dq.input(2)).toFloatArray();
    int axis = (int) dq.intAttr("axis", 1);
    long inner = 1;
    for (int d = axis + 1; d < x.rank(); d++) {
      inner *= x.dim(d);
    }
    float[] q = x.toFloatArray();
    float[] out = new float[q.length];
    for (int i = 0; i < q.length; i++) {
      int c = (int) ((i / inner) % x.dim(axis));
      out[i] = (q[i] - zp[c]) * scale[c];
    }
    return out;
  }

  static byte[] bytes(Tensor t) {
    byte[] b = new byte[(int) t.byteSize()];
    t.data().get(b);
    return b;
  }
}
