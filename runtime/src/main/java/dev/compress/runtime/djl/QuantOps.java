package dev.compress.runtime.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.tensor.Tensor;
import dev.compress.runtime.kernels.Int4Linear;
import dev.compress.runtime.kernels.KernelPool;
import dev.compress.runtime.kernels.Quantize;
import dev.compress.runtime.kernels.QuantizedLinear;
import dev.compress.training.quant.FakeQuantizeOp;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * ONNX quantization operators: {@code DequantizeLinear} (per tensor, per axis, blocked), {@code
 * QuantizeLinear}, {@code DynamicQuantizeLinear}, {@code MatMulInteger}, and ONNX Runtime's {@code
 * com.microsoft::MatMulNBits} (4 bits, constant weight), which runs on the project's fused int4
 * kernel ({@link Int4Linear}). Integer products are exact (computed in float64, cast to int32).
 */
final class QuantOps {
  private QuantOps() {}

  static void register() {
    OpRegistry.register("DequantizeLinear", QuantOps::dequantizeLinear);
    OpRegistry.register("QuantizeLinear", QuantOps::quantizeLinear);
    OpRegistry.register("DynamicQuantizeLinear", QuantOps::dynamicQuantizeLinear);
    OpRegistry.register("MatMulInteger", QuantOps::matMulInteger);
    OpRegistry.register("com.microsoft::MatMulNBits", QuantOps::matMulNBits);
    OpRegistry.register("com.microsoft::GatherBlockQuantized", QuantOps::gatherBlockQuantized);
    OpRegistry.register(FakeQuantizeOp.QUALIFIED, QuantOps::fakeQuantize);
  }

  /**
   * The training graph's fake quantization ({@link FakeQuantizeOp}): the value of {@code
   * DequantizeLinear(QuantizeLinear(x))} on a scalar or blocked grid, with the clipped
   * straight-through gradient for {@code x} and LSQ's gradient for the scale.
   */
  private static Kernel fakeQuantize(OpNode n) throws UnsupportedModelException {
    long axis = n.intAttr("axis", 1);
    long block = n.intAttr("block_size", 0);
    long lo = n.intAttr("qmin", Long.MIN_VALUE);
    long hi = n.intAttr("qmax", Long.MIN_VALUE);
    if (lo == Long.MIN_VALUE || hi == Long.MIN_VALUE || lo >= hi) {
      throw n.unsupported("needs integer attributes qmin < qmax, found " + lo + ", " + hi);
    }
    float qmin = lo;
    float qmax = hi;
    float g = n.floatAttr("grad_scale", 1f);
    return MathOps.single(
        n,
        (in, m) -> {
          long[] xd = Nd.dims(in[0]);
          NDArray s = broadcastParam(in[1], xd, axis, block);
          NDArray z =
              in.length > 2 && in[2] != null ? broadcastParam(in[2], xd, axis, block) : null;
          return FakeQuantizeOp.apply(in[0], s, z, qmin, qmax, g);
        });
  }

  // ------------------------------------------------------------------ element-wise
  // (de)quantization

  /**
   * Reshapes a scale or zero point to broadcast against {@code x}: one value for the whole tensor,
   * a 1-D tensor along {@code axis}, or (block quantization) the same rank as {@code x} with {@code
   * ceil(d / block)} along {@code axis}, each value repeated over its block.
   */
  static NDArray broadcastParam(NDArray p, long[] xd, long axisAttr, long block) {
    if (block <= 0 && p.size() == 1 && p.getShape().dimension() <= 1) {
      return p.reshape(new Shape());
    }
    int axis = Nd.axis(axisAttr, xd.length);
    if (block > 0) {
      long[] pd = Nd.dims(p);
      if (pd.length != xd.length) {
        throw new IllegalArgumentException(
            "blocked scale must have the rank of x, found " + Arrays.toString(pd));
      }
      long[] wide = new long[pd.length + 1];
      long[] flat = pd.clone();
      for (int i = 0, j = 0; i < pd.length; i++) {
        wide[j++] = pd[i];
        if (i == axis) {
          wide[j++] = block;
        }
      }
      flat[axis] = pd[axis] * block;
      NDArray r = p.expandDims(axis + 1).broadcast(new Shape(wide)).reshape(new Shape(flat));
      if (flat[axis] != xd[axis]) {
        StringBuilder idx = new StringBuilder();
        for (int i = 0; i < xd.length; i++) {
          idx.append(i == 0 ? "" : ",").append(i == axis ? "0:" + xd[axis] : ":");
        }
        r = r.get(new NDIndex(idx.toString()));
      }
      return r;
    }
    if (p.getShape().dimension() != 1 || p.size() != xd[axis]) {
      throw new IllegalArgumentException(
          "per-axis scale/zero point must be 1-D of length "
              + xd[axis]
              + " (axis "
              + axis
              + "), found "
              + p.getShape());
    }
    long[] shape = new long[xd.length];
    Arrays.fill(shape, 1);
    shape[axis] = xd[axis];
    return p.reshape(new Shape(shape));
  }

  private static Kernel dequantizeLinear(OpNode n) throws UnsupportedModelException {
    long axis = n.intAttr("axis", 1);
    long block = n.intAttr("block_size", 0);
    return MathOps.single(
        n, (in, m) -> dequantize(in[0], in[1], in.length > 2 ? in[2] : null, axis, block));
  }

  /** ONNX {@code DequantizeLinear}: {@code (x - zp) * scale}, in the scale's type. */
  static NDArray dequantize(NDArray x, NDArray scale, NDArray zp, long axis, long block) {
    long[] xd = Nd.dims(x);
    DataType out = scale.getDataType();
    NDArray v = x.toType(DataType.FLOAT32, false);
    if (zp != null) {
      v = v.sub(broadcastParam(zp.toType(DataType.FLOAT32, false), xd, axis, block));
    }
    v = v.mul(broadcastParam(scale.toType(DataType.FLOAT32, false), xd, axis, block));
    return out == DataType.FLOAT32 ? v : v.toType(out, false);
  }

  /**
   * Rows of X up to which an int8 {@code DequantizeLinear -> MatMul} (and the static W8A8 pattern,
   * and {@code MatMulNBits} on a GPU) runs on our kernels; above it, the weight is dequantized per
   * call with engine ops and multiplied by PyTorch's matmul. On the CPU the weight-only patterns go
   * to {@link #dequantizedMatMul} from {@link #DEQUANT_ROWS} rows first, which is faster than
   * either. System property {@code compress.kernels.maxRows}, default 64.
   */
  static final int MAX_KERNEL_ROWS = Integer.getInteger("compress.kernels.maxRows", 64);

  /** Whether a product over {@code x} (last dimension {@code k}) goes to the kernels. */
  static boolean useKernel(NDArray x, int k) {
    return x.size() / Math.max(1, k) <= MAX_KERNEL_ROWS;
  }

  /**
   * Rows of X from which a weight-only quantized product on the CPU (int8 {@code DequantizeLinear
   * -> MatMul}, int4 {@code MatMulNBits} in float-activation mode) is PyTorch's f32 matmul, the one
   * the f32 model runs, against the weight dequantized by the kernels' vectorized dequantizer
   * ({@link #dequantizedMatMul}); below it the fused kernels run. At many rows the f32 GEMM is
   * compute-bound and faster than the kernels' panel path, and dequantizing costs one pass over the
   * weight per call. System property {@code compress.kernels.dequantRows}, default 64 (at 32 rows
   * the kernels and this path measured level, 0.70-0.87x of f32 either way).
   */
  static final int DEQUANT_ROWS = Integer.getInteger("compress.kernels.dequantRows", 64);

  /**
   * The most floats of dequantized weight one tile of {@link #dequantizedMatMul} holds: wider
   * layers are multiplied in column tiles and the results concatenated, so the float copy never
   * exceeds this (per calling thread, reused across calls and layers). System property {@code
   * compress.kernels.dequantTileFloats}, default 2^20 (4 MiB; every MiniLM layer is one tile).
   */
  static final int DEQUANT_TILE_FLOATS =
      Math.max(1, Integer.getInteger("compress.kernels.dequantTileFloats", 1 << 20));

  private static final ThreadLocal<ByteBuffer> DEQUANT_TILE =
      ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(0));

  /** Writes W's columns {@code [o0, o1)} transposed ({@code [o1 - o0, K]}) into a buffer. */
  @FunctionalInterface
  interface ColumnDequantizer {
    void columns(int o0, int o1, java.nio.FloatBuffer dst);
  }

  /**
   * Opt-in ({@code -Dcompress.kernels.dequantCache=true}, default false): a weight-only layer that
   * once runs {@link #dequantizedMatMul} keeps its whole dequantized weight as f32 for the life of
   * the executor ({@link CachedWeight}), so later calls skip the dequantization. That costs the f32
   * size of every such layer on top of the quantized one (the memory int4 set out to save); by
   * default nothing is kept.
   */
  static final boolean DEQUANT_CACHE = Boolean.getBoolean("compress.kernels.dequantCache");

  /** A layer's dequantized weight {@code [K, N]}, built on first use and kept by the step. */
  static final class CachedWeight {
    private final int k;
    private final int n;
    private final ColumnDequantizer dq;
    private volatile ByteBuffer weight;

    CachedWeight(int k, int n, ColumnDequantizer dq) {
      this.k = k;
      this.n = n;
      this.dq = dq;
    }

    /** Whether the whole weight fits one direct buffer. */
    boolean fits() {
      return 4L * k * n <= Integer.MAX_VALUE;
    }

    private ByteBuffer weight() {
      ByteBuffer w = weight;
      if (w == null) {
        synchronized (this) {
          w = weight;
          if (w == null) {
            // dequantized as [N, K], kept as [K, N]: PyTorch's CPU GEMM was 4-15% slower with a
            // transposed right operand at 128 rows of MiniLM's shapes (one transpose, once)
            java.nio.FloatBuffer t =
                ByteBuffer.allocateDirect(4 * k * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
            dq.columns(0, n, t);
            w = ByteBuffer.allocateDirect(4 * k * n).order(ByteOrder.nativeOrder());
            java.nio.FloatBuffer f = w.asFloatBuffer();
            for (int o = 0; o < n; o++) {
              for (int i = 0; i < k; i++) {
                f.put(i * n + o, t.get(o * k + i));
              }
            }
            weight = w;
          }
        }
      }
      return w;
    }

    /** {@code x · W} by PyTorch's f32 matmul over the kept weight. */
    NDArray matMul(NDArray x) {
      ByteBuffer b = weight().duplicate().order(ByteOrder.nativeOrder());
      try (NDArray w = x.getManager().create(b, new Shape(k, n), DataType.FLOAT32)) {
        return x.matMul(w);
      }
    }
  }

  /**
   * {@code x · W} for a step over {@code dq}: through {@code cache} when {@link #DEQUANT_CACHE} is
   * on and the weight fits one buffer, else {@link #dequantizedMatMul}.
   */
  static NDArray dequantizedMatMul(NDArray x, CachedWeight cache) {
    return DEQUANT_CACHE && cache.fits()
        ? cache.matMul(x)
        : dequantizedMatMul(x, cache.k, cache.n, cache.dq);
  }

  /** Whether {@code x} goes to {@link #dequantizedMatMul}: f32 on the CPU, enough rows. */
  static boolean useDequantized(NDArray x, int k) {
    return !x.getDevice().isGpu()
        && x.getDataType() == DataType.FLOAT32
        && x.size() / Math.max(1, k) >= DEQUANT_ROWS;
  }

  /**
   * {@code x · W} ({@code x [..., K]} f32) by PyTorch's f32 matmul: W's columns are dequantized a
   * tile at a time (at most {@link #DEQUANT_TILE_FLOATS} floats) into the calling thread's direct
   * buffer, handed to the engine as such (PyTorch's {@code from_blob}, no copy through a Java
   * array), and each tile's product is taken before the buffer is reused. No float copy of a weight
   * outlives the call; the buffer (one tile, at most 4 MiB by default) stays with the thread for
   * the next call.
   */
  static NDArray dequantizedMatMul(NDArray x, int k, int n, ColumnDequantizer dq) {
    return dequantizedMatMul(x, k, n, DEQUANT_TILE_FLOATS, dq);
  }

  /**
   * {@link #dequantizedMatMul(NDArray, int, int, ColumnDequantizer)} with tiles of {@code
   * tileFloats}.
   */
  static NDArray dequantizedMatMul(NDArray x, int k, int n, int tileFloats, ColumnDequantizer dq) {
    int cols = Math.max(1, Math.min(n, tileFloats / k));
    ByteBuffer tile = DEQUANT_TILE.get();
    long need = 4L * cols * k;
    if (tile.capacity() < need) {
      tile = ByteBuffer.allocateDirect(Math.toIntExact(need)).order(ByteOrder.nativeOrder());
      DEQUANT_TILE.set(tile);
    }
    NDManager m = x.getManager();
    ai.djl.ndarray.NDList parts = new ai.djl.ndarray.NDList();
    for (int o0 = 0; o0 < n; o0 += cols) {
      int o1 = Math.min(n, o0 + cols);
      ByteBuffer b =
          tile.duplicate()
              .position(0)
              .limit(4 * (o1 - o0) * k)
              .slice()
              .order(ByteOrder.nativeOrder());
      dq.columns(o0, o1, b.asFloatBuffer());
      try (NDArray w = m.create(b, new Shape(o1 - o0, k), DataType.FLOAT32)) {
        parts.add(x.matMul(w.transpose()));
      }
    }
    if (parts.size() == 1) {
      return parts.get(0);
    }
    NDArray y = ai.djl.ndarray.NDArrays.concat(parts, -1);
    parts.close();
    return y;
  }

  /**
   * {@code MatMulNBits}'s weight dequantized with engine ops: {@code [K, N]} f32 from {@code B [N,
   * blocks, blob]}, {@code scales}, optional packed 4-bit {@code zero_points}.
   */
  static NDArray dequantizeNBits(NDArray b, NDArray scales, NDArray zp, int k, int n, int block) {
    int blocks = (k + block - 1) / block;
    NDArray bf = b.toType(DataType.FLOAT32, false); // 0..255, exact
    NDArray hi = bf.div(16f).floor();
    NDArray lo = bf.sub(hi.mul(16f));
    // element 2j is the low nibble of byte j, 2j+1 the high one
    NDArray codes = lo.expandDims(3).concat(hi.expandDims(3), 3).reshape(n, blocks, block);
    NDArray z;
    if (zp == null) {
      z = codes.getManager().create(8f);
    } else {
      NDArray zf = zp.toType(DataType.FLOAT32, false).reshape(n, -1);
      NDArray zhi = zf.div(16f).floor();
      NDArray zlo = zf.sub(zhi.mul(16f));
      z = zlo.expandDims(2).concat(zhi.expandDims(2), 2).reshape(n, -1).get(":, 0:" + blocks);
      z = z.expandDims(2);
    }
    NDArray w = codes.sub(z).mul(scales.toType(DataType.FLOAT32, false).reshape(n, blocks, 1));
    w = w.reshape(n, (long) blocks * block);
    if ((long) blocks * block != k) {
      w = w.get(":, 0:" + k);
    }
    return w.transpose();
  }

  private static Kernel quantizeLinear(OpNode n) throws UnsupportedModelException {
    long axis = n.intAttr("axis", 1);
    long block = n.intAttr("block_size", 0);
    long outputType = n.intAttr("output_dtype", 0);
    if (outputType != 0 && outputType != 2 && outputType != 3) {
      throw n.unsupported("output_dtype " + outputType + " (only uint8 and int8 are supported)");
    }
    return MathOps.single(
        n,
        (in, m) -> {
          NDArray x = in[0].toType(DataType.FLOAT32, false);
          long[] xd = Nd.dims(x);
          NDArray zp = in.length > 2 ? in[2] : null;
          DataType type =
              zp != null ? zp.getDataType() : outputType == 3 ? DataType.INT8 : DataType.UINT8;
          if (type != DataType.UINT8 && type != DataType.INT8) {
            throw new IllegalArgumentException(
                "QuantizeLinear to " + type + " is not supported (uint8 and int8 are)");
          }
          NDArray s = broadcastParam(in[1].toType(DataType.FLOAT32, false), xd, axis, block);
          NDArray v = x.div(s).round();
          if (zp != null) {
            v = v.add(broadcastParam(zp.toType(DataType.FLOAT32, false), xd, axis, block));
          }
          boolean unsigned = type == DataType.UINT8;
          v = v.clip(unsigned ? 0 : -128, unsigned ? 255 : 127);
          return v.toType(DataType.INT32, false).toType(type, false);
        });
  }

  private static Kernel dynamicQuantizeLinear(OpNode n) throws UnsupportedModelException {
    return (in, m) -> {
      float[] x = in[0].toType(DataType.FLOAT32, false).toFloatArray();
      Quantize.Params p = Quantize.dynamicUint8(x);
      byte[] q = new byte[x.length];
      for (int i = 0; i < x.length; i++) {
        q[i] = (byte) Quantize.quantize(x[i], p.scale(), p.zeroPoint(), 0, 255);
      }
      NDArray y =
          NdConvert.toNd(
              Tensor.ofBytes("y", dev.compress.api.tensor.DataType.UINT8, Nd.dims(in[0]), q), m);
      NDArray scale = m.create(p.scale());
      NDArray zp =
          NdConvert.toNd(
              Tensor.ofBytes(
                  "zp", dev.compress.api.tensor.DataType.UINT8, new long[0], (byte) p.zeroPoint()),
              m);
      return new NDArray[] {y, scale, zp};
    };
  }

  private static Kernel matMulInteger(OpNode n) throws UnsupportedModelException {
    return MathOps.single(
        n,
        (in, m) -> {
          // (A - a_zp) @ (B - b_zp) in float64 (exact below 2^53), then int32.
          NDArray a = in[0].toType(DataType.FLOAT64, false);
          NDArray b = in[1].toType(DataType.FLOAT64, false);
          if (in.length > 2 && in[2] != null) {
            NDArray z = in[2].toType(DataType.FLOAT64, false);
            if (z.size() != 1) { // per row of A: [M] -> [M, 1]
              z = z.reshape(z.size(), 1);
            } else {
              z = z.reshape(new Shape());
            }
            a = a.sub(z);
          }
          if (in.length > 3 && in[3] != null) {
            NDArray z = in[3].toType(DataType.FLOAT64, false);
            b = b.sub(z.size() == 1 ? z.reshape(new Shape()) : z); // per column: [N]
          }
          return a.matMul(b).toType(DataType.INT32, false);
        });
  }

  // ------------------------------------------------------------------ GatherBlockQuantized

  /**
   * ONNX Runtime's {@code GatherBlockQuantized} as this project writes it (4-bit embedding tables):
   * {@code uint8} data {@code [V, D/2]} (two codes a byte, low nibble first), gather on axis 0,
   * blocks of {@code block_size} along axis 1, f32 scales {@code [V, D/block_size]}, no zero points
   * (the implicit 8). Only the gathered rows are dequantized.
   */
  private static Kernel gatherBlockQuantized(OpNode n) throws UnsupportedModelException {
    long block = n.intAttr("block_size", 128);
    if (n.intAttr("gather_axis", 0) != 0 || n.intAttr("quantize_axis", 1) != 1) {
      throw n.unsupported("only gather_axis 0 with quantize_axis 1 is implemented");
    }
    if (n.node().inputs().size() > 3 && !n.node().input(3).isEmpty()) {
      throw n.unsupported("zero_points are not implemented (the implicit 8 is)");
    }
    if (n.node().attribute("bits").isPresent() && n.intAttr("bits", 4) != 4) {
      throw n.unsupported("only 4-bit data is implemented");
    }
    return MathOps.single(
        n,
        (in, m) -> {
          NDArray data = in[0];
          if (data.getDataType() != DataType.UINT8 || data.getShape().dimension() != 2) {
            throw n.unsupported("data must be uint8 [rows, columns / 2], found " + data);
          }
          NDArray idx = in[1];
          long[] id = Nd.dims(idx);
          long cols = data.getShape().get(1) * 2;
          long blocks = cols / block;
          NDArray flat = idx.toType(DataType.INT64, false).reshape(idx.size());
          NDArray rows = data.get(new NDIndex("{}", flat)).toType(DataType.FLOAT32, false);
          NDArray hi = rows.div(16f).floor(); // 0..255, exact in f32
          NDArray lo = rows.sub(hi.mul(16f));
          long k = flat.size();
          // column 2j is the low nibble of byte j, 2j+1 the high one
          NDArray codes = lo.expandDims(2).concat(hi.expandDims(2), 2).reshape(k, blocks, block);
          NDArray scales = in[2].get(new NDIndex("{}", flat)).toType(DataType.FLOAT32, false);
          NDArray v = codes.sub(8f).mul(scales.reshape(k, blocks, 1));
          long[] out = Arrays.copyOf(id, id.length + 1);
          out[id.length] = cols;
          NDArray y = v.reshape(new Shape(out));
          return in[2].getDataType() == DataType.FLOAT32 ? y : y.toType(in[2].getDataType(), false);
        });
  }

  // ------------------------------------------------------------------ MatMulNBits

  private static Kernel matMulNBits(OpNode n) throws UnsupportedModelException {
    long bits = n.intAttr("bits", 4);
    long k = n.intAttr("K", -1);
    long nOut = n.intAttr("N", -1);
    long block = n.intAttr("block_size", -1);
    if (bits != 4) {
      throw n.unsupported("bits=" + bits + " (4-bit weights are supported)");
    }
    if (k < 1 || nOut < 1 || block < 16) {
      throw n.unsupported(
          "needs attributes K, N and block_size (found " + k + ", " + nOut + ", " + block + ")");
    }
    if (n.node().inputs().size() > 4 && !n.node().input(4).isEmpty()) {
      throw n.unsupported("g_idx (input 4) is not supported");
    }
    Tensor b =
        n.constantInput(1)
            .orElseThrow(() -> n.unsupported("B (input 1) must be a constant initializer"));
    Tensor scales =
        n.constantInput(2)
            .orElseThrow(() -> n.unsupported("scales (input 2) must be a constant initializer"));
    boolean hasZp = n.node().inputs().size() > 3 && !n.node().input(3).isEmpty();
    Tensor zp = null;
    if (hasZp) {
      zp =
          n.constantInput(3)
              .orElseThrow(() -> n.unsupported("zero_points (input 3) must be a constant"));
      if (zp.dtype() != dev.compress.api.tensor.DataType.UINT8) {
        throw n.unsupported("zero_points of type " + zp.dtype() + " (packed uint8 is supported)");
      }
    }
    if (b.dtype() != dev.compress.api.tensor.DataType.UINT8
        || scales.dtype() != dev.compress.api.tensor.DataType.FLOAT) {
      throw n.unsupported(
          "B must be uint8 and scales float, found " + b.dtype() + " and " + scales.dtype());
    }
    Int4Linear lin;
    try {
      lin =
          Int4Linear.fromMatMulNBits(
              bytes(b),
              scales.toFloatArray(),
              zp == null ? null : bytes(zp),
              (int) k,
              (int) nOut,
              (int) block);
    } catch (IllegalArgumentException e) {
      throw n.unsupported(e.getMessage());
    }
    // accuracy_level 4 is ONNX Runtime's "int8 compute": activations quantized to int8 per block,
    // which is what the int8-activation mode of the kernel does (levels 0-3 keep float activations)
    if (n.intAttr("accuracy_level", 0) == 4) {
      lin = lin.withInt8Activations(true);
    }
    Int4Linear layer = lin;
    CachedWeight cached =
        new CachedWeight(
            (int) k,
            (int) nOut,
            (o0, o1, dst) -> layer.dequantizeTransposed(o0, o1, dst, KernelPool.shared()));
    boolean hasBias = n.node().inputs().size() > 5 && !n.node().input(5).isEmpty();
    int kk = (int) k;
    int nn = (int) nOut;
    int bs = (int) block;
    return MathOps.single(
        n,
        (in, m) -> {
          NDArray y;
          if (!layer.int8Activations() && useDequantized(in[0], kk)) {
            // many rows on the CPU: the f32 GEMM over the weight dequantized by the kernels
            y = dequantizedMatMul(in[0], cached);
          } else if (useKernel(in[0], kk) || !in[0].getDevice().isGpu()) {
            y = linear(layer, in[0], m);
          } else {
            // a large batch on a GPU: dequantized with engine ops
            y =
                in[0].matMul(
                    dequantizeNBits(in[1], in[2], in.length > 3 ? in[3] : null, kk, nn, bs));
          }
          return hasBias ? y.add(in[5]) : y;
        });
  }

  // ------------------------------------------------------------------ shared with the fusions

  /** The bytes of an 8-bit tensor. */
  static byte[] bytes(Tensor t) {
    ByteBuffer d = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }

  /**
   * {@code x · W} on a quantized kernel: {@code x} (any float type, {@code [..., K]}) is copied to
   * the heap, multiplied, and the result {@code [..., N]} created on {@code m}.
   */
  static NDArray linear(QuantizedLinear lin, NDArray x, NDManager m) {
    float[] xs = floats(x, lin.inFeatures());
    int rows = xs.length / lin.inFeatures();
    float[] y = new float[rows * lin.outFeatures()];
    TorchThreads.beforeKernel();
    lin.multiply(xs, rows, y);
    return m.create(y, outShape(x, lin.outFeatures()));
  }

  /** The values of {@code x} as f32, checking the last dimension is {@code k}. */
  static float[] floats(NDArray x, int k) {
    long[] d = Nd.dims(x);
    if (d.length == 0 || d[d.length - 1] != k) {
      throw new IllegalArgumentException(
          "the input's last dimension must be K=" + k + ", found shape " + x.getShape());
    }
    if (x.getDataType() == DataType.FLOAT32) {
      return x.toFloatArray();
    }
    try (NDArray f = x.toType(DataType.FLOAT32, true)) {
      return f.toFloatArray();
    }
  }

  /** {@code x}'s shape with the last dimension replaced by {@code n}. */
  static Shape outShape(NDArray x, int n) {
    long[] d = Nd.dims(x).clone();
    d[d.length - 1] = n;
    return new Shape(d);
  }
}
