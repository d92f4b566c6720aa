package dev.compress.quantization.format.gptq;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/**
 * The GPTQ checkpoint layout of one linear layer (AutoGPTQ / GPTQModel, {@code checkpoint_format:
 * gptq}, i.e. v1), for {@code in} input and {@code out} output features:
 *
 * <ul>
 *   <li>{@code PREFIX.qweight} int32 {@code [in * bits / 32, out]}: for each output column, the
 *       codes along the input dimension as a little-endian bit stream of {@code bits}-bit fields,
 *       32 bits per row (for 2, 4 and 8 bits: code {@code k} of word {@code i} at bit {@code bits *
 *       k}; 3 bits spans words as in AutoGPTQ, 32 codes per 3 words);
 *   <li>{@code PREFIX.qzeros} int32 {@code [groups, out * bits / 32]}: {@code zero - 1} (v1) per
 *       group and output, packed the same way along the output dimension. The v1 offset cannot
 *       represent zero point 0 directly: it is stored masked to {@code bits} bits ({@code maxq})
 *       and read back as {@code (stored + 1) mod 2^bits};
 *   <li>{@code PREFIX.scales} f16 {@code [groups, out]};
 *   <li>{@code PREFIX.g_idx} int32 {@code [in]}: the group of each input feature.
 * </ul>
 *
 * <p>Per-channel quantization is one group ({@code group_size -1} in {@code quantize_config.json}).
 */
public final class GptqLayout {
  private GptqLayout() {}

  /** The tensors of one layer, named {@code prefix.qweight} etc. */
  public static List<Tensor> pack(String prefix, GroupQuantizedWeight q) {
    int in = q.cols();
    int out = q.rows();
    int bits = q.bits();
    check(prefix, in, out, bits);
    int groups = q.groups();
    int maxq = (1 << bits) - 1;
    int qRows = in * bits / 32;
    int[] qweight = new int[qRows * out]; // (in * bits / 32, out)
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        put(qweight, out, o, (long) i * bits, q.code(o, i), bits);
      }
    }
    int zCols = out * bits / 32;
    int[] qzeros = new int[groups * zCols]; // (groups, out * bits / 32)
    short[] scales = new short[groups * out];
    for (int g = 0; g < groups; g++) {
      for (int o = 0; o < out; o++) {
        putRow(qzeros, zCols, g, (long) o * bits, (q.zero(o, g) - 1) & maxq, bits);
        scales[g * out + o] = Float.floatToFloat16(q.scale(o, g));
      }
    }
    return List.of(
        Tensor.ofInts(prefix + ".qweight", new long[] {qRows, out}, qweight),
        Tensor.ofInts(prefix + ".qzeros", new long[] {groups, zCols}, qzeros),
        f16(prefix + ".scales", new long[] {groups, out}, scales),
        Tensor.ofInts(prefix + ".g_idx", new long[] {in}, q.gIdx()));
  }

  /**
   * Reads one layer back.
   *
   * @param tensors the checkpoint's tensors by name
   * @param groupSize the {@code group_size} of {@code quantize_config.json}, -1 for per channel
   * @throws IllegalArgumentException when a tensor is missing or its shape or type is wrong
   */
  public static GroupQuantizedWeight unpack(
      Map<String, Tensor> tensors, String prefix, int bits, int groupSize, boolean symmetric) {
    Tensor qw = require(tensors, prefix + ".qweight", DataType.INT32);
    Tensor qz = require(tensors, prefix + ".qzeros", DataType.INT32);
    Tensor sc = require(tensors, prefix + ".scales", DataType.FLOAT16);
    Tensor gi = require(tensors, prefix + ".g_idx", DataType.INT32);
    int out = (int) qw.dim(1);
    int in = (int) gi.dim(0);
    check(prefix, in, out, bits);
    int groups = (int) sc.dim(0);
    int qRows = in * bits / 32;
    int zCols = out * bits / 32;
    if (qw.dim(0) != qRows || qz.dim(0) != groups || qz.dim(1) != zCols || sc.dim(1) != out) {
      throw new IllegalArgumentException(
          prefix
              + ": shapes qweight "
              + qw.shapeString()
              + ", qzeros "
              + qz.shapeString()
              + ", scales "
              + sc.shapeString()
              + ", g_idx "
              + gi.shapeString()
              + " do not fit "
              + bits
              + "-bit weights of "
              + in
              + " x "
              + out);
    }
    int[] qweight = ints(qw);
    int[] qzeros = ints(qz);
    ByteBuffer sb = sc.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int maxq = (1 << bits) - 1;
    byte[] codes = new byte[out * in];
    float[] scales = new float[out * groups];
    int[] zeros = new int[out * groups];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        codes[o * in + i] = (byte) get(qweight, out, o, (long) i * bits, bits);
      }
    }
    for (int g = 0; g < groups; g++) {
      for (int o = 0; o < out; o++) {
        zeros[o * groups + g] = (getRow(qzeros, zCols, g, (long) o * bits, bits) + 1) & maxq;
        scales[o * groups + g] = Float.float16ToFloat(sb.getShort(2 * (g * out + o)));
      }
    }
    int group = groupSize <= 0 ? in : groupSize;
    return GroupQuantizedWeight.of(out, in, bits, group, symmetric, codes, scales, zeros, ints(gi));
  }

  private static void check(String prefix, int in, int out, int bits) {
    if (bits < 2 || bits > 8 || bits == 5 || bits == 6 || bits == 7) {
      throw new IllegalArgumentException(
          prefix + ": the GPTQ layout holds 2, 3, 4 or 8 bits, found " + bits);
    }
    if ((long) in * bits % 32 != 0 || (long) out * bits % 32 != 0) {
      throw new IllegalArgumentException(
          prefix
              + ": "
              + bits
              + "-bit GPTQ packing needs in and out features times bits to be a"
              + " multiple of 32, found in "
              + in
              + ", out "
              + out);
    }
  }

  // Bit stream along a column (qweight: bits run down the rows of column o).
  private static void put(int[] a, int cols, int col, long bit, int v, int bits) {
    for (int b = 0; b < bits; b++) {
      long pos = bit + b;
      int row = (int) (pos >>> 5);
      if (((v >>> b) & 1) != 0) {
        a[row * cols + col] |= 1 << (pos & 31);
      }
    }
  }

  private static int get(int[] a, int cols, int col, long bit, int bits) {
    int v = 0;
    for (int b = 0; b < bits; b++) {
      long pos = bit + b;
      int row = (int) (pos >>> 5);
      v |= ((a[row * cols + col] >>> (pos & 31)) & 1) << b;
    }
    return v;
  }

  // Bit stream along a row (qzeros: bits run across the columns of row r).
  private static void putRow(int[] a, int cols, int row, long bit, int v, int bits) {
    for (int b = 0; b < bits; b++) {
      long pos = bit + b;
      if (((v >>> b) & 1) != 0) {
        a[row * cols + (int) (pos >>> 5)] |= 1 << (pos & 31);
      }
    }
  }

  private static int getRow(int[] a, int cols, int row, long bit, int bits) {
    int v = 0;
    for (int b = 0; b < bits; b++) {
      long pos = bit + b;
      v |= ((a[row * cols + (int) (pos >>> 5)] >>> (pos & 31)) & 1) << b;
    }
    return v;
  }

  static Tensor f16(String name, long[] shape, short[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short s : v) {
      b.putShort(s);
    }
    b.flip();
    return Tensor.of(name, DataType.FLOAT16, shape, b);
  }

  static int[] ints(Tensor t) {
    ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int[] v = new int[(int) t.elementCount()];
    for (int i = 0; i < v.length; i++) {
      v[i] = b.getInt(4 * i);
    }
    return v;
  }

  static Tensor require(Map<String, Tensor> tensors, String name, DataType type) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException("tensor " + name + " is missing");
    }
    if (t.dtype() != type) {
      throw new IllegalArgumentException(
          "tensor " + name + " is " + t.dtype() + ", expected " + type);
    }
    return t;
  }
}
