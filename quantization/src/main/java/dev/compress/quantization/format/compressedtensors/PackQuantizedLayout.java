package dev.compress.quantization.format.compressedtensors;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The compressed-tensors {@code pack-quantized} layout of one linear layer (what llm-compressor
 * writes and vLLM / compressed-tensors read), for {@code out x in} weights of {@code bits} bits:
 *
 * <ul>
 *   <li>{@code PREFIX.weight_packed} int32 {@code [out, ceil(in / (32 / bits))]}: {@code 32 / bits}
 *       (integer division) codes per word along the input dimension, code {@code k} of a word at
 *       bit {@code bits * k}, the tail zero-padded; the stored value is the signed quantized value
 *       plus {@code 2^(bits-1)}, which is exactly this toolkit's unsigned code;
 *   <li>{@code PREFIX.weight_scale} {@code [out, groups]} in the model's float dtype (what
 *       llm-compressor writes; f32 unless a dtype is given);
 *   <li>{@code PREFIX.weight_zero_point} only for an asymmetric grid: int32 {@code [ceil(out / (32
 *       / bits)), groups]}, the unsigned zero points packed the same way along the output dimension
 *       (a symmetric grid has signed zero point 0, not stored);
 *   <li>{@code PREFIX.weight_g_idx} int32 {@code [in]}, with act-order groups that are not
 *       contiguous, and on request for every layer of an {@code actorder: group} checkpoint;
 *   <li>{@code PREFIX.weight_shape} int64 {@code [2]} = {@code [out, in]}.
 * </ul>
 */
public final class PackQuantizedLayout {
  private PackQuantizedLayout() {}

  /** The tensors of one layer, named {@code prefix.weight_packed} etc., scales in f32. */
  public static List<Tensor> pack(String prefix, GroupQuantizedWeight q) {
    return pack(prefix, q, DataType.FLOAT);
  }

  /**
   * The tensors of one layer with {@code weight_scale} stored as {@code scaleType} (FLOAT, FLOAT16
   * or BFLOAT16, rounded to nearest even).
   *
   * @throws IllegalArgumentException when a code or zero point does not fit {@code q.bits()} bits
   */
  public static List<Tensor> pack(String prefix, GroupQuantizedWeight q, DataType scaleType) {
    return pack(prefix, q, scaleType, false);
  }

  /**
   * As {@link #pack(String, GroupQuantizedWeight, DataType)}; with {@code gIdx} the {@code
   * weight_g_idx} tensor is written even for contiguous groups (a checkpoint whose config says
   * {@code actorder: group} has it for every layer).
   */
  public static List<Tensor> pack(
      String prefix, GroupQuantizedWeight q, DataType scaleType, boolean gIdx) {
    int out = q.rows();
    int in = q.cols();
    int bits = q.bits();
    int pf = 32 / bits;
    int cols = (in + pf - 1) / pf;
    int[] packed = new int[out * cols];
    int max = (1 << bits) - 1;
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        int c = q.code(o, i);
        if (c < 0 || c > max) {
          throw new IllegalArgumentException(
              prefix + ": code " + c + " at [" + o + ", " + i + "] does not fit " + bits + " bits");
        }
        packed[o * cols + i / pf] |= c << (bits * (i % pf));
      }
    }
    int groups = q.groups();
    float[] scales = new float[out * groups];
    for (int o = 0; o < out; o++) {
      for (int g = 0; g < groups; g++) {
        scales[o * groups + g] = q.scale(o, g);
      }
    }
    List<Tensor> t = new ArrayList<>();
    t.add(Tensor.ofInts(prefix + ".weight_packed", new long[] {out, cols}, packed));
    t.add(Tensor.ofFloats(prefix + ".weight_scale", scaleType, new long[] {out, groups}, scales));
    if (!q.symmetric()) {
      int zRows = (out + pf - 1) / pf;
      int[] zp = new int[zRows * groups];
      for (int o = 0; o < out; o++) {
        for (int g = 0; g < groups; g++) {
          zp[(o / pf) * groups + g] |= q.zero(o, g) << (bits * (o % pf));
        }
      }
      t.add(Tensor.ofInts(prefix + ".weight_zero_point", new long[] {zRows, groups}, zp));
    }
    if (gIdx || !q.contiguous()) {
      t.add(Tensor.ofInts(prefix + ".weight_g_idx", new long[] {in}, q.gIdx()));
    }
    t.add(Tensor.ofLongs(prefix + ".weight_shape", new long[] {2}, out, in));
    return t;
  }

  /**
   * Reads one layer back.
   *
   * @param groupSize the config's {@code group_size}; 0 or less for per channel
   * @throws IllegalArgumentException when a tensor is missing or its shape or type is wrong
   */
  public static GroupQuantizedWeight unpack(
      Map<String, Tensor> tensors, String prefix, int bits, int groupSize, boolean symmetric) {
    Tensor wp = require(tensors, prefix + ".weight_packed", DataType.INT32);
    Tensor ws = require(tensors, prefix + ".weight_shape", null);
    long[] shape = ws.toLongArray();
    if (shape.length != 2) {
      throw new IllegalArgumentException(
          prefix + ".weight_shape has " + shape.length + " values, expected 2");
    }
    int out = (int) shape[0];
    int in = (int) shape[1];
    int pf = 32 / bits;
    int cols = (in + pf - 1) / pf;
    Tensor sc = require(tensors, prefix + ".weight_scale", null);
    if (!List.of(DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16).contains(sc.dtype())) {
      throw new IllegalArgumentException(
          "tensor " + prefix + ".weight_scale is " + sc.dtype() + ", expected a float type");
    }
    int groups = (int) sc.dim(1);
    if (wp.dim(0) != out || wp.dim(1) != cols || sc.dim(0) != out) {
      throw new IllegalArgumentException(
          prefix
              + ": weight_packed "
              + wp.shapeString()
              + " / weight_scale "
              + sc.shapeString()
              + " do not fit "
              + bits
              + "-bit weights of shape ["
              + out
              + ", "
              + in
              + "]");
    }
    int[] packed = ints(wp);
    int mask = (1 << bits) - 1;
    byte[] codes = new byte[out * in];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        codes[o * in + i] = (byte) ((packed[o * cols + i / pf] >>> (bits * (i % pf))) & mask);
      }
    }
    int[] zeros = new int[out * groups];
    if (symmetric) {
      java.util.Arrays.fill(zeros, 1 << (bits - 1));
    } else {
      Tensor zt = require(tensors, prefix + ".weight_zero_point", DataType.INT32);
      int[] zp = ints(zt);
      for (int o = 0; o < out; o++) {
        for (int g = 0; g < groups; g++) {
          zeros[o * groups + g] = (zp[(o / pf) * groups + g] >>> (bits * (o % pf))) & mask;
        }
      }
    }
    Tensor gi = tensors.get(prefix + ".weight_g_idx");
    int group = groupSize <= 0 ? in : groupSize;
    int[] gIdx = gi == null ? GroupQuantizedWeight.contiguousGroups(in, group) : ints(gi);
    return GroupQuantizedWeight.of(
        out, in, bits, group, symmetric, codes, sc.toFloatArray(), zeros, gIdx);
  }

  private static int[] ints(Tensor t) {
    ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int[] v = new int[(int) t.elementCount()];
    for (int i = 0; i < v.length; i++) {
      v[i] = b.getInt(4 * i);
    }
    return v;
  }

  private static Tensor require(Map<String, Tensor> tensors, String name, DataType type) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException("tensor " + name + " is missing");
    }
    if (type != null && t.dtype() != type) {
      throw new IllegalArgumentException(
          "tensor " + name + " is " + t.dtype() + ", expected " + type);
    }
    return t;
  }
}
