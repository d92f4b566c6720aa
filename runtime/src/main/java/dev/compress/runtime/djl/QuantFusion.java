package dev.compress.runtime.djl;

import ai.djl.ndarray.NDArray;
import dev.compress.api.graph.Graph;
import dev.compress.api.graph.GraphIndex;
import dev.compress.api.graph.Node;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.kernels.Int8Linear;
import dev.compress.runtime.kernels.QuantizedLinear;
import dev.compress.runtime.kernels.W8A8Linear;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds quantized linear layers in a graph and replaces each by one step on the project's kernels
 * ({@code dev.compress.runtime.kernels}), so the quantized weight is never expanded to floats:
 *
 * <ul>
 *   <li><b>int8 weight-only</b>: {@code MatMul(X, DequantizeLinear(W))} (or {@code Gemm} with
 *       {@code alpha = beta = 1}, {@code transA = 0}) where {@code W} is a constant int8/uint8
 *       matrix with a per-tensor or per-output-channel scale and zero point → {@link Int8Linear};
 *   <li><b>W8A8 dynamic</b> (ONNX Runtime's {@code quantize_dynamic} pattern): {@code
 *       DynamicQuantizeLinear(x) → MatMulInteger(xq, W, xzp[, wzp]) → Cast(FLOAT) → Mul(·, Mul(xs,
 *       ws))} → {@link W8A8Linear#multiply};
 *   <li><b>W8A8 static QDQ</b>: {@code MatMul(DequantizeLinear(QuantizeLinear(x, s, z), s, z),
 *       DequantizeLinear(W, sw, axis=1))} with a per-tensor activation scale → {@link
 *       W8A8Linear#multiplyQuantized};
 *   <li><b>quantized embedding</b>: {@code Gather(DequantizeLinear(T), ids, axis=0)} where {@code
 *       T} is a constant int8/uint8 table with a per-tensor or per-row (axis 0) scale and zero
 *       point, and every reader of the dequantized table is such a Gather → the codes (and the
 *       per-row scale and zero point) are gathered first and only the gathered rows dequantized,
 *       with the same arithmetic as {@code DequantizeLinear}, so the values are identical.
 * </ul>
 *
 * <p>The replaced node (the group's last node) becomes the fused step; the group's other nodes are
 * skipped when nothing else reads their outputs (otherwise they still run, for those readers).
 */
final class QuantFusion {
  private QuantFusion() {}

  /** A fused group: the step that replaces {@code anchor}. */
  record Group(Node anchor, List<String> inputs, List<Node> members, Kernel kernel, String kind) {}

  /** The plan: fused anchors and the nodes they make unnecessary. */
  record Plan(Map<Node, Group> groups, Set<Node> skipped) {
    static final Plan NONE = new Plan(Map.of(), Set.of());

    /** Kind of each fused group, counted ({@code int8}, {@code w8a8-dynamic}, ...). */
    Map<String, Integer> counts() {
      Map<String, Integer> c = new LinkedHashMap<>();
      for (Group g : groups.values()) {
        c.merge(g.kind(), 1, Integer::sum);
      }
      return c;
    }
  }

  /**
   * The graph's def-use index with the executor's constants (initializers and folded constants,
   * which the graph alone does not know).
   */
  private record Index(GraphIndex graph, Map<String, Tensor> constants) {
    Optional<Node> producer(String value, String op) {
      return graph.producer(value, op);
    }

    Tensor constant(Node n, int i) {
      return i < n.inputs().size() && !n.input(i).isEmpty() ? constants.get(n.input(i)) : null;
    }

    boolean has(Node n, int i) {
      return i < n.inputs().size() && !n.input(i).isEmpty();
    }
  }

  /** An 8-bit constant weight behind a {@code DequantizeLinear}: its codes and parameters. */
  private record Weight8(
      byte[] codes, boolean unsigned, int k, int n, boolean outIn, float[] scale, byte[] zp) {}

  /**
   * The weight behind {@code dq} as a {@code [K, N]} matrix ({@code outIn} false) or {@code [N, K]}
   * (true), if {@code dq} dequantizes a constant 8-bit rank-2 tensor per tensor or along the output
   * axis.
   */
  private static Optional<Weight8> weight8(Index ix, Node dq, boolean outIn) {
    if (dq.intAttr("block_size", 0) != 0) {
      return Optional.empty();
    }
    Tensor w = ix.constant(dq, 0);
    Tensor s = ix.constant(dq, 1);
    Tensor z = ix.has(dq, 2) ? ix.constant(dq, 2) : null;
    if (w == null || s == null || (ix.has(dq, 2) && z == null) || w.rank() != 2) {
      return Optional.empty();
    }
    boolean unsigned = w.dtype() == dev.compress.api.tensor.DataType.UINT8;
    if (!unsigned && w.dtype() != dev.compress.api.tensor.DataType.INT8) {
      return Optional.empty();
    }
    if (s.dtype() != dev.compress.api.tensor.DataType.FLOAT
        || (z != null && z.dtype() != w.dtype())) {
      return Optional.empty();
    }
    int k = (int) w.dim(outIn ? 1 : 0);
    int n = (int) w.dim(outIn ? 0 : 1);
    long axis = dq.intAttr("axis", 1);
    axis = axis < 0 ? axis + 2 : axis;
    boolean perTensor = s.elementCount() == 1 && s.rank() <= 1;
    boolean perChannel = s.rank() == 1 && s.elementCount() == n && axis == (outIn ? 0 : 1);
    if (!perTensor && !perChannel) {
      return Optional.empty();
    }
    if (z != null && z.elementCount() != s.elementCount()) {
      return Optional.empty();
    }
    return Optional.of(
        new Weight8(
            QuantOps.bytes(w),
            unsigned,
            k,
            n,
            outIn,
            s.toFloatArray(),
            z == null ? null : QuantOps.bytes(z)));
  }

  /** Plans the fusions of {@code g}. */
  static Plan plan(Graph g, Map<String, Tensor> constants) {
    Index ix = new Index(GraphIndex.of(g), constants);
    Map<Node, Group> groups = new IdentityHashMap<>();
    Map<Node, Int8Linear> int8Cache = new IdentityHashMap<>();
    Map<Node, W8A8Linear> w8a8Cache = new IdentityHashMap<>();
    for (Node n : g.nodes()) {
      if (!n.domain().isEmpty()) {
        continue;
      }
      Group found =
          switch (n.opType()) {
            case "MatMul" ->
                staticW8a8(ix, n, w8a8Cache).or(() -> weightOnly(ix, n, int8Cache)).orElse(null);
            case "Gemm" -> weightOnly(ix, n, int8Cache).orElse(null);
            case "Mul" -> dynamicW8a8(ix, n).orElse(null);
            case "Gather" -> quantizedGather(ix, n).orElse(null);
            default -> null;
          };
      if (found != null) {
        groups.put(n, found);
      }
    }
    // A member can be skipped when every reader of every output it has is itself skipped or is an
    // anchor whose group contains it (fixpoint: drop members that violate it until none do).
    Set<Node> skip = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    for (Group gr : groups.values()) {
      for (Node m : gr.members()) {
        if (m != gr.anchor() && !groups.containsKey(m)) {
          skip.add(m);
        }
      }
    }
    boolean changed = true;
    while (changed) {
      changed = false;
      for (Node m : List.copyOf(skip)) {
        boolean ok = true;
        for (String o : m.outputs()) {
          if (o.isEmpty()) {
            continue;
          }
          if (ix.graph().isGraphOutput(o)) {
            ok = false;
            break;
          }
          for (Node c : ix.graph().consumers(o)) {
            Group cg = groups.get(c);
            boolean covered = cg != null && cg.members().contains(m);
            if (!skip.contains(c) && !covered) {
              ok = false;
              break;
            }
          }
          if (!ok) {
            break;
          }
        }
        if (!ok) {
          skip.remove(m);
          changed = true;
        }
      }
    }
    return new Plan(groups, skip);
  }

  private static Optional<Group> weightOnly(Index ix, Node mm, Map<Node, Int8Linear> cache) {
    boolean gemm = mm.opType().equals("Gemm");
    boolean outIn = false;
    if (gemm) {
      if (mm.floatAttr("alpha", 1f) != 1f
          || mm.intAttr("transA", 0) != 0
          || (ix.has(mm, 2) && mm.floatAttr("beta", 1f) != 1f)) {
        return Optional.empty();
      }
      outIn = mm.intAttr("transB", 0) != 0;
    }
    if (mm.inputs().size() < 2 || mm.input(0).equals(mm.input(1))) {
      return Optional.empty();
    }
    Node dq = ix.producer(mm.input(1), "DequantizeLinear").orElse(null);
    if (dq == null) {
      return Optional.empty();
    }
    boolean layout = outIn;
    Int8Linear lin = cache.get(dq);
    if (lin == null) {
      Weight8 w = weight8(ix, dq, layout).orElse(null);
      if (w == null) {
        return Optional.empty();
      }
      lin = Int8Linear.of(w.codes(), w.unsigned(), w.k(), w.n(), w.outIn(), w.scale(), w.zp());
      cache.put(dq, lin);
    }
    Int8Linear l = lin;
    QuantOps.CachedWeight cached =
        new QuantOps.CachedWeight(
            l.inFeatures(),
            l.outFeatures(),
            (o0, o1, dst) ->
                l.dequantizeTransposed(
                    o0, o1, dst, dev.compress.runtime.kernels.KernelPool.shared()));
    List<String> inputs = new ArrayList<>(List.of(mm.input(0)));
    boolean bias = gemm && ix.has(mm, 2);
    if (bias) {
      inputs.add(mm.input(2));
    }
    // The int8 codes, scale and zero point also enter the step (held by the engine, quantized) for
    // batches above the kernel's row limit, where they are dequantized and multiplied by PyTorch.
    int wAt = inputs.size();
    inputs.add(dq.input(0));
    inputs.add(dq.input(1));
    boolean zp = ix.has(dq, 2);
    if (zp) {
      inputs.add(dq.input(2));
    }
    long axis = dq.intAttr("axis", 1);
    boolean transB = layout;
    Kernel k =
        (in, m) -> {
          NDArray y;
          if (QuantOps.useDequantized(in[0], l.inFeatures())) {
            // many rows on the CPU: the f32 GEMM over the weight dequantized by the kernels
            y = QuantOps.dequantizedMatMul(in[0], cached);
          } else if (QuantOps.useKernel(in[0], l.inFeatures())) {
            y = QuantOps.linear(l, in[0], m);
          } else {
            NDArray w = QuantOps.dequantize(in[wAt], in[wAt + 1], zp ? in[wAt + 2] : null, axis, 0);
            y = in[0].matMul(transB ? w.transpose() : w);
          }
          return new NDArray[] {bias ? y.add(in[1]) : y};
        };
    return Optional.of(new Group(mm, inputs, List.of(dq, mm), k, "int8-weight-only"));
  }

  private static Optional<Group> staticW8a8(Index ix, Node mm, Map<Node, W8A8Linear> cache) {
    if (mm.inputs().size() != 2) {
      return Optional.empty();
    }
    Node dqx = ix.producer(mm.input(0), "DequantizeLinear").orElse(null);
    Node dqw = ix.producer(mm.input(1), "DequantizeLinear").orElse(null);
    if (dqx == null || dqw == null || dqx == dqw) {
      return Optional.empty();
    }
    Node ql = ix.producer(dqx.input(0), "QuantizeLinear").orElse(null);
    if (ql == null || dqx.intAttr("block_size", 0) != 0 || ql.intAttr("block_size", 0) != 0) {
      return Optional.empty();
    }
    // Same constant scalar scale and zero point on both sides of the activation round trip.
    Tensor s1 = ix.constant(ql, 1);
    Tensor s2 = ix.constant(dqx, 1);
    if (s1 == null || s2 == null || s1.elementCount() != 1 || s2.elementCount() != 1) {
      return Optional.empty();
    }
    float sx = s1.toFloatArray()[0];
    if (sx != s2.toFloatArray()[0]
        || !(sx > 0)
        || s1.dtype() != dev.compress.api.tensor.DataType.FLOAT) {
      return Optional.empty();
    }
    boolean z1 = ix.has(ql, 2);
    boolean z2 = ix.has(dqx, 2);
    Tensor zq = z1 ? ix.constant(ql, 2) : null;
    Tensor zd = z2 ? ix.constant(dqx, 2) : null;
    if (z1 != z2 || (z1 && (zq == null || zd == null || zq.elementCount() != 1))) {
      return Optional.empty();
    }
    if (z1 && (zq.dtype() != zd.dtype() || QuantOps.bytes(zq)[0] != QuantOps.bytes(zd)[0])) {
      return Optional.empty();
    }
    if (ql.intAttr("output_dtype", 0) == 3 && !z1) {
      return Optional.empty(); // int8 output without a zero point: keep the general path
    }
    boolean unsignedAct = !z1 || zq.dtype() == dev.compress.api.tensor.DataType.UINT8;
    if (z1 && !unsignedAct && zq.dtype() != dev.compress.api.tensor.DataType.INT8) {
      return Optional.empty();
    }
    int zx = !z1 ? 0 : unsignedAct ? QuantOps.bytes(zq)[0] & 0xff : QuantOps.bytes(zq)[0];
    W8A8Linear lin = cache.get(dqw);
    if (lin == null) {
      Weight8 w = weight8(ix, dqw, false).orElse(null);
      if (w == null) {
        return Optional.empty();
      }
      lin = W8A8Linear.of(w.codes(), w.unsigned(), w.k(), w.n(), false, w.scale(), w.zp());
      cache.put(dqw, lin);
    }
    W8A8Linear l = lin;
    int lo = unsignedAct ? 0 : -128;
    int hi = unsignedAct ? 255 : 127;
    // The weight's codes, scale and zero point also enter the step (held by the engine, quantized)
    // for batches above the kernels' row limit, where PyTorch's f32 matmul of the dequantized
    // operands wins (its sums are then float, not exact integers: within f32 rounding).
    List<String> inputs = new ArrayList<>(List.of(ql.input(0), dqw.input(0), dqw.input(1)));
    boolean wzp = ix.has(dqw, 2);
    if (wzp) {
      inputs.add(dqw.input(2));
    }
    long axis = dqw.intAttr("axis", 1);
    Kernel k =
        (in, m) -> {
          if (!QuantOps.useKernel(in[0], l.inFeatures())) {
            NDArray xq =
                in[0]
                    .toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
                    .div(sx)
                    .round()
                    .add(zx)
                    .clip(lo, hi)
                    .sub(zx)
                    .mul(sx);
            NDArray w = QuantOps.dequantize(in[1], in[2], wzp ? in[3] : null, axis, 0);
            return new NDArray[] {xq.matMul(w)};
          }
          float[] x = QuantOps.floats(in[0], l.inFeatures());
          int rows = x.length / l.inFeatures();
          float[] y = new float[rows * l.outFeatures()];
          l.multiplyQuantized(
              x,
              rows,
              sx,
              zx,
              lo,
              hi,
              y,
              QuantizedLinear.Impl.AUTO,
              dev.compress.runtime.kernels.KernelPool.shared());
          return new NDArray[] {m.create(y, QuantOps.outShape(in[0], l.outFeatures()))};
        };
    return Optional.of(new Group(mm, inputs, List.of(ql, dqx, dqw, mm), k, "w8a8-static"));
  }

  private static Optional<Group> dynamicW8a8(Index ix, Node mul) {
    if (mul.inputs().size() != 2) {
      return Optional.empty();
    }
    for (int side = 0; side < 2; side++) {
      Node cast = ix.producer(mul.input(side), "Cast").orElse(null);
      Node smul = ix.producer(mul.input(1 - side), "Mul").orElse(null);
      if (cast == null || smul == null || cast.intAttr("to", 0) != 1) {
        continue;
      }
      Node mmi = ix.producer(cast.input(0), "MatMulInteger").orElse(null);
      if (mmi == null || !ix.has(mmi, 2)) {
        continue;
      }
      Node dql = ix.producer(mmi.input(0), "DynamicQuantizeLinear").orElse(null);
      if (dql == null
          || dql.outputs().size() < 3
          || !mmi.input(0).equals(dql.output(0))
          || !mmi.input(2).equals(dql.output(2))
          || smul.inputs().size() != 2) {
        continue;
      }
      // smul = xs * ws, either order
      String xs = dql.output(1);
      int wsAt = smul.input(0).equals(xs) ? 1 : smul.input(1).equals(xs) ? 0 : -1;
      if (wsAt < 0) {
        continue;
      }
      Tensor ws = ix.constant(smul, wsAt);
      Tensor wq = ix.constant(mmi, 1);
      Tensor wz = ix.has(mmi, 3) ? ix.constant(mmi, 3) : null;
      if (ws == null || wq == null || wq.rank() != 2 || (ix.has(mmi, 3) && wz == null)) {
        continue;
      }
      boolean unsigned = wq.dtype() == dev.compress.api.tensor.DataType.UINT8;
      if (!unsigned && wq.dtype() != dev.compress.api.tensor.DataType.INT8) {
        continue;
      }
      int k = (int) wq.dim(0);
      int n = (int) wq.dim(1);
      if (ws.dtype() != dev.compress.api.tensor.DataType.FLOAT
          || !(ws.elementCount() == 1 || (ws.rank() == 1 && ws.elementCount() == n))
          || (wz != null && !(wz.elementCount() == 1 || wz.elementCount() == n))) {
        continue;
      }
      W8A8Linear l =
          W8A8Linear.of(
              QuantOps.bytes(wq),
              unsigned,
              k,
              n,
              false,
              ws.toFloatArray(),
              wz == null ? null : QuantOps.bytes(wz));
      Kernel kern = (in, m) -> new NDArray[] {QuantOps.linear(l, in[0], m)};
      return Optional.of(
          new Group(
              mul,
              List.of(dql.input(0)),
              List.of(dql, mmi, cast, smul, mul),
              kern,
              "w8a8-dynamic"));
    }
    return Optional.empty();
  }

  /**
   * {@code Gather(DequantizeLinear(T, s[, z]), ids)} along axis 0, with {@code T} a constant 8-bit
   * table dequantized per tensor or per row, and only Gathers reading the dequantized table.
   */
  private static Optional<Group> quantizedGather(Index ix, Node gather) {
    if (gather.inputs().size() != 2) {
      return Optional.empty();
    }
    Node dq = ix.producer(gather.input(0), "DequantizeLinear").orElse(null);
    if (dq == null || dq.intAttr("block_size", 0) != 0 || gather.input(1).equals(dq.output(0))) {
      return Optional.empty();
    }
    Tensor t = ix.constant(dq, 0);
    Tensor s = ix.constant(dq, 1);
    Tensor z = ix.has(dq, 2) ? ix.constant(dq, 2) : null;
    if (t == null || s == null || (ix.has(dq, 2) && z == null) || t.rank() < 1) {
      return Optional.empty();
    }
    if (t.dtype() != dev.compress.api.tensor.DataType.INT8
        && t.dtype() != dev.compress.api.tensor.DataType.UINT8) {
      return Optional.empty();
    }
    if (z != null && z.dtype() != t.dtype()) {
      return Optional.empty();
    }
    int rank = t.rank();
    long gAxis = gather.intAttr("axis", 0);
    long qAxis = dq.intAttr("axis", 1);
    gAxis = gAxis < 0 ? gAxis + rank : gAxis;
    qAxis = qAxis < 0 ? qAxis + rank : qAxis;
    if (gAxis != 0) {
      return Optional.empty();
    }
    boolean perTensor = s.elementCount() == 1 && s.rank() <= 1;
    boolean perRow = !perTensor && s.rank() == 1 && s.elementCount() == t.dim(0) && qAxis == 0;
    if (!perTensor && !perRow) {
      return Optional.empty();
    }
    if (z != null && (z.rank() != s.rank() || z.elementCount() != s.elementCount())) {
      return Optional.empty();
    }
    // Only when the dequantized table is needed by nothing but such Gathers (else it is built
    // anyway and gathering from it costs nothing extra).
    String table = dq.output(0);
    if (ix.graph().isGraphOutput(table)) {
      return Optional.empty();
    }
    for (Node c : ix.graph().consumers(table)) {
      if (!c.domain().isEmpty()
          || !c.opType().equals("Gather")
          || c.inputs().size() != 2
          || !c.input(0).equals(table)
          || c.input(1).equals(table)) {
        return Optional.empty();
      }
      long a = c.intAttr("axis", 0);
      if ((a < 0 ? a + rank : a) != 0) {
        return Optional.empty();
      }
    }
    boolean zp = ix.has(dq, 2);
    List<String> inputs = new ArrayList<>(List.of(gather.input(1), dq.input(0), dq.input(1)));
    if (zp) {
      inputs.add(dq.input(2));
    }
    Kernel k =
        (in, m) -> {
          NDArray ids = in[0];
          long[] td = Nd.dims(in[1]);
          long[] id = Nd.dims(ids);
          long[] out = new long[id.length + td.length - 1];
          System.arraycopy(id, 0, out, 0, id.length);
          System.arraycopy(td, 1, out, id.length, td.length - 1);
          // As the Gather kernel: one flat index list, negative indices counting from the end.
          NDArray flat = ids.toType(ai.djl.ndarray.types.DataType.INT64, false).reshape(ids.size());
          ai.djl.ndarray.index.NDIndex rows = new ai.djl.ndarray.index.NDIndex("{}", flat);
          NDArray codes = in[1].get(rows);
          NDArray scale = perRow ? in[2].get(rows) : in[2];
          NDArray zero = !zp ? null : perRow ? in[3].get(rows) : in[3];
          NDArray y = QuantOps.dequantize(codes, scale, zero, perRow ? 0 : 1, 0);
          return new NDArray[] {y.reshape(new ai.djl.ndarray.types.Shape(out))};
        };
    return Optional.of(new Group(gather, inputs, List.of(dq, gather), k, "int8-gather"));
  }
}
