package dev.compress.quantization.format;

import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.graph.Node;
import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import dev.compress.quantization.grid.QuantizedMatrix;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The integer weights of a graph {@link QuantizedModelWriter} wrote, read back from the graph alone
 * (in memory or loaded from disk), so that exporters need no state of the pass that quantized it:
 *
 * <ul>
 *   <li>{@code com.microsoft::MatMulNBits} (4-bit blocks, optional zero points); when its input is
 *       an act-order {@code Gather(A, perm, axis=-1)} with a constant {@code perm}, the stored
 *       columns are {@code perm} of the original ones and are put back in the original order, with
 *       {@code g_idx} recovered;
 *   <li>{@code MatMul}/{@code Gemm} whose weight is a per-axis {@code DequantizeLinear} of an int8
 *       (symmetric, codes shifted by 128) or uint8 (explicit zero points) initializer, directly or
 *       through the {@code Cast} to f16/bf16 written for a half-precision weight.
 * </ul>
 *
 * <p>The graph does not say how many bits of its container a code uses, nor whether the grid was
 * symmetric when both are stored alike (e.g. 3-bit codes with explicit zero points in a 4-bit
 * block): the caller states {@code bits} and {@code symmetric} (the pass's config).
 */
public final class QuantizedGraphWeights {
  private QuantizedGraphWeights() {}

  /**
   * Every quantized linear layer of {@code model}, by node name, in graph order, in the {@code out
   * x in} view and the original column order.
   *
   * @param bits bits per code of the quantization grid (at most the container's)
   * @param symmetric whether the grid was symmetric
   * @throws IllegalArgumentException when a node's tensors do not match its attributes, or a code
   *     exceeds {@code 2^bits - 1}
   */
  public static Map<String, GroupQuantizedWeight> read(
      ModelGraph model, int bits, boolean symmetric) {
    Graph graph = model.graph();
    GraphIndex producers = GraphIndex.of(graph);
    Map<String, GroupQuantizedWeight> out = new LinkedHashMap<>();
    for (Node n : graph.nodes()) {
      Optional<GroupQuantizedWeight> w =
          switch (n.opType()) {
            case "MatMulNBits" -> Optional.of(matMulNBits(graph, producers, n, bits, symmetric));
            case "MatMul", "Gemm" -> dequantized(graph, producers, n, bits, symmetric);
            default -> Optional.empty();
          };
      w.ifPresent(q -> out.put(n.name(), q));
    }
    return out;
  }

  private static GroupQuantizedWeight matMulNBits(
      Graph graph, GraphIndex producers, Node n, int bits, boolean symmetric) {
    int k = (int) n.intAttr("K", 0);
    int rows = (int) n.intAttr("N", 0);
    int container = (int) n.intAttr("bits", 4);
    int blockSize = (int) n.intAttr("block_size", 0);
    byte[] b = bytes(constant(graph, n, 1));
    float[] scales = constant(graph, n, 2).toFloatArray();
    byte[] zp =
        n.inputs().size() > 3 && !n.input(3).isEmpty() ? bytes(constant(graph, n, 3)) : null;
    QuantizedMatrix q =
        MatMulNBitsLayout.unpack(
            new MatMulNBitsLayout.Packed(k, rows, container, blockSize, b, scales, zp));
    GroupQuantizedWeight stored = of(q, bits, symmetric);
    int[] perm = actOrderPermutation(graph, producers, n.input(0), k);
    if (perm == null) {
      return stored;
    }
    // Stored column j is original column perm[j]: put codes and groups back.
    int[] inverse = new int[k];
    for (int j = 0; j < k; j++) {
      inverse[perm[j]] = j;
    }
    return stored.permuteColumns(inverse);
  }

  /** The indices of an act-order {@code Gather(A, perm, axis=-1)} producing {@code a}, or null. */
  private static int[] actOrderPermutation(Graph graph, GraphIndex producers, String a, int k) {
    Node g = producers.producer(a).orElse(null);
    if (g == null || !g.opType().equals("Gather") || g.intAttr("axis", 0) != -1) {
      return null;
    }
    Optional<Tensor> idx = graph.constant(g.input(1));
    if (idx.isEmpty() || idx.get().rank() != 1 || idx.get().elementCount() != k) {
      return null;
    }
    long[] v = idx.get().toLongArray();
    int[] perm = new int[k];
    boolean[] seen = new boolean[k];
    for (int j = 0; j < k; j++) {
      if (v[j] < 0 || v[j] >= k || seen[(int) v[j]]) {
        return null; // not a permutation: some other gather
      }
      perm[j] = (int) v[j];
      seen[perm[j]] = true;
    }
    return perm;
  }

  private static Optional<GroupQuantizedWeight> dequantized(
      Graph graph, GraphIndex producers, Node n, int bits, boolean symmetric) {
    Node dq = producers.producer(n.input(1)).orElse(null);
    if (dq != null && dq.opType().equals("Cast")) {
      // f16/bf16 weights: DequantizeLinear (f32) then a Cast to the weight's own type.
      dq = producers.producer(dq.input(0)).orElse(null);
    }
    if (dq == null || !dq.opType().equals("DequantizeLinear")) {
      return Optional.empty();
    }
    Optional<Tensor> codesT = graph.constant(dq.input(0));
    if (codesT.isEmpty() || codesT.get().rank() != 2) {
      return Optional.empty();
    }
    Tensor codes = codesT.get();
    boolean sym = codes.dtype() == DataType.INT8;
    if (!sym && codes.dtype() != DataType.UINT8) {
      return Optional.empty();
    }
    WeightLayout layout =
        n.opType().equals("Gemm") && n.intAttr("transB", 0) != 0
            ? WeightLayout.OUT_IN
            : WeightLayout.IN_OUT;
    int axis = (int) dq.intAttr("axis", 1);
    if (axis != WeightMatrix.outputAxis(layout)) {
      return Optional.empty();
    }
    int out = (int) codes.dim(axis);
    int in = (int) codes.dim(1 - axis);
    float[] stored = codes.toFloatArray();
    float[] scales = graph.constant(dq.input(1)).orElseThrow().toFloatArray();
    float[] zeros =
        dq.inputs().size() > 2 && !dq.input(2).isEmpty()
            ? graph.constant(dq.input(2)).orElseThrow().toFloatArray()
            : null;
    if (scales.length != out || (zeros != null && zeros.length != out)) {
      throw new IllegalArgumentException(
          "node '" + dq.name() + "': " + scales.length + " scales for " + out + " channels");
    }
    byte[] c = new byte[out * in];
    int[] z = new int[out];
    for (int o = 0; o < out; o++) {
      z[o] = sym ? 128 : (int) zeros[o];
      for (int i = 0; i < in; i++) {
        int v = (int) stored[WeightMatrix.storedIndex(layout, out, in, o, i)];
        c[o * in + i] = (byte) (sym ? v + 128 : v);
      }
    }
    return Optional.of(
        GroupQuantizedWeight.of(
            out,
            in,
            bits,
            in,
            symmetric,
            c,
            scales,
            z,
            GroupQuantizedWeight.contiguousGroups(in, in)));
  }

  private static GroupQuantizedWeight of(QuantizedMatrix q, int bits, boolean symmetric) {
    int rows = q.rows();
    int cols = q.cols();
    byte[] codes = new byte[rows * cols];
    float[] scales = new float[rows * q.groups()];
    int[] zeros = new int[scales.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        codes[r * cols + c] = (byte) q.code(r, c);
      }
      for (int g = 0; g < q.groups(); g++) {
        scales[r * q.groups() + g] = q.scale(r, g);
        zeros[r * q.groups() + g] = q.zero(r, g);
      }
    }
    return GroupQuantizedWeight.of(
        rows,
        cols,
        bits,
        q.groupSize(),
        symmetric,
        codes,
        scales,
        zeros,
        GroupQuantizedWeight.contiguousGroups(cols, q.groupSize()));
  }

  private static Tensor constant(Graph graph, Node n, int input) {
    return graph
        .constant(n.input(input))
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "node '" + n.name() + "': input " + input + " is not a constant"));
  }

  private static byte[] bytes(Tensor t) {
    byte[] out = new byte[(int) t.byteSize()];
    t.data().get(out);
    return out;
  }
}
