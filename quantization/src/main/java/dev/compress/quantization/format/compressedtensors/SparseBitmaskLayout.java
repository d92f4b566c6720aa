package dev.compress.quantization.format.compressedtensors;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The compressed-tensors sparse layouts of one {@code out x in} linear weight, as its {@code
 * Sparse24BitMaskCompressor} and {@code BitmaskCompressor} write them (tensors named after the
 * module, without {@code .weight}); the values keep the weight's own dtype, bytes copied:
 *
 * <ul>
 *   <li>{@code sparse-24-bitmask}: {@code PREFIX.shape} int64 {@code [2, 1]} = {@code [[out],
 *       [in]]}; {@code PREFIX.compressed} {@code [out, in / 2]}, the two kept values of every group
 *       of 4 consecutive inputs in order; {@code PREFIX.bitmask} uint8 {@code [out, ceil(in / 8)]},
 *       bit {@code i % 8} of byte {@code i / 8} set where input {@code i} is kept ({@code
 *       numpy.packbits(..., bitorder="little")}). A group with fewer than two non-zeros keeps its
 *       first zeros to make two (the reference picks them by {@code topk}; any choice decompresses
 *       the same).
 *   <li>{@code sparse-bitmask}: {@code PREFIX.shape} int64 {@code [2]}; {@code PREFIX.compressed}
 *       the non-zero values, row-major, 1-D; {@code PREFIX.bitmask} as above; {@code
 *       PREFIX.row_offsets} int64 {@code [out]}, the index in {@code compressed} where each row
 *       starts.
 * </ul>
 *
 * A value is zero when it compares equal to 0 ({@code -0.0} too, as {@code tensor != 0} in the
 * reference).
 */
public final class SparseBitmaskLayout {
  /** {@code sparsity_config.format} of the 2:4 layout. */
  public static final String SPARSE_24 = "sparse-24-bitmask";

  /** {@code sparsity_config.format} of the unstructured layout. */
  public static final String SPARSE = "sparse-bitmask";

  private SparseBitmaskLayout() {}

  /**
   * The {@value #SPARSE_24} tensors of {@code weight} ({@code [out, in]}, a float type).
   *
   * @throws IllegalArgumentException when {@code in} is not a multiple of 4 or a group of 4 has
   *     more than two non-zeros (the weight is not 2:4 sparse)
   */
  public static List<Tensor> pack24(String prefix, Tensor weight) {
    int[] d = dims(prefix, weight);
    int out = d[0];
    int in = d[1];
    if (in % 4 != 0) {
      throw new IllegalArgumentException(
          prefix + ": " + in + " input features are not a multiple of 4 (2:4 groups)");
    }
    int es = (int) weight.dtype().byteSize(1);
    ByteBuffer src = weight.data();
    float[] row = new float[in];
    ByteBuffer values = ByteBuffer.allocate(out * (in / 2) * es).order(ByteOrder.LITTLE_ENDIAN);
    int maskCols = (in + 7) / 8;
    byte[] mask = new byte[out * maskCols];
    for (int o = 0; o < out; o++) {
      weight.readFloats((long) o * in, row, 0, in);
      for (int g = 0; g < in; g += 4) {
        int nz = 0;
        for (int k = 0; k < 4; k++) {
          nz += row[g + k] != 0 ? 1 : 0;
        }
        if (nz > 2) {
          throw new IllegalArgumentException(
              prefix
                  + ": inputs "
                  + g
                  + ".."
                  + (g + 3)
                  + " of output "
                  + o
                  + " hold "
                  + nz
                  + " non-zeros; not 2:4 sparse");
        }
        int zerosToKeep = 2 - nz;
        for (int k = 0; k < 4; k++) {
          int i = g + k;
          boolean keep = row[i] != 0;
          if (!keep && zerosToKeep > 0) {
            keep = true;
            zerosToKeep--;
          }
          if (keep) {
            mask[o * maskCols + i / 8] |= (byte) (1 << (i % 8));
            copy(src, ((long) o * in + i) * es, values, es);
          }
        }
      }
    }
    List<Tensor> t = new ArrayList<>();
    t.add(Tensor.ofLongs(prefix + ".shape", new long[] {2, 1}, out, in));
    t.add(
        Tensor.of(prefix + ".compressed", weight.dtype(), new long[] {out, in / 2}, values.flip()));
    t.add(Tensor.ofBytes(prefix + ".bitmask", DataType.UINT8, new long[] {out, maskCols}, mask));
    return t;
  }

  /** The {@value #SPARSE} tensors of {@code weight} ({@code [out, in]}, a float type). */
  public static List<Tensor> packBitmask(String prefix, Tensor weight) {
    int[] d = dims(prefix, weight);
    int out = d[0];
    int in = d[1];
    int es = (int) weight.dtype().byteSize(1);
    ByteBuffer src = weight.data();
    float[] row = new float[in];
    int maskCols = (in + 7) / 8;
    byte[] mask = new byte[out * maskCols];
    long[] offsets = new long[out];
    long nnz = 0;
    for (int o = 0; o < out; o++) {
      weight.readFloats((long) o * in, row, 0, in);
      offsets[o] = nnz;
      for (int i = 0; i < in; i++) {
        if (row[i] != 0) {
          mask[o * maskCols + i / 8] |= (byte) (1 << (i % 8));
          nnz++;
        }
      }
    }
    ByteBuffer values = ByteBuffer.allocate((int) (nnz * es)).order(ByteOrder.LITTLE_ENDIAN);
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        if ((mask[o * maskCols + i / 8] & (1 << (i % 8))) != 0) {
          copy(src, ((long) o * in + i) * es, values, es);
        }
      }
    }
    List<Tensor> t = new ArrayList<>();
    t.add(Tensor.ofLongs(prefix + ".shape", new long[] {2}, out, in));
    t.add(Tensor.of(prefix + ".compressed", weight.dtype(), new long[] {nnz}, values.flip()));
    t.add(Tensor.ofBytes(prefix + ".bitmask", DataType.UINT8, new long[] {out, maskCols}, mask));
    t.add(Tensor.ofLongs(prefix + ".row_offsets", new long[] {out}, offsets));
    return t;
  }

  /**
   * The dense weight {@code prefix.weight} back from either layout's tensors, in the dtype of
   * {@code compressed}: the kept values where the bitmask is set (in row-major order), zeros
   * elsewhere.
   *
   * @throws IllegalArgumentException when a tensor is missing or the sizes disagree
   */
  public static Tensor unpack(Map<String, Tensor> tensors, String prefix) {
    Tensor shape = require(tensors, prefix + ".shape");
    Tensor values = require(tensors, prefix + ".compressed");
    Tensor bitmask = require(tensors, prefix + ".bitmask");
    long[] s = shape.toLongArray();
    if (s.length != 2) {
      throw new IllegalArgumentException(prefix + ".shape has " + s.length + " values, expected 2");
    }
    int out = (int) s[0];
    int in = (int) s[1];
    int maskCols = (in + 7) / 8;
    if (bitmask.dtype() != DataType.UINT8
        || bitmask.rank() != 2
        || bitmask.dim(0) != out
        || bitmask.dim(1) != maskCols) {
      throw new IllegalArgumentException(
          prefix
              + ".bitmask is "
              + bitmask.dtype()
              + " "
              + bitmask.shapeString()
              + ", expected UINT8 ["
              + out
              + ", "
              + maskCols
              + "]");
    }
    int es = (int) values.dtype().byteSize(1);
    ByteBuffer m = bitmask.data();
    ByteBuffer v = values.data();
    ByteBuffer dense = ByteBuffer.allocate(out * in * es).order(ByteOrder.LITTLE_ENDIAN);
    long next = 0;
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        if ((m.get(o * maskCols + i / 8) & (1 << (i % 8))) != 0) {
          if (next >= values.elementCount()) {
            throw new IllegalArgumentException(
                prefix
                    + ".compressed has "
                    + values.elementCount()
                    + " values, the mask sets more");
          }
          for (int b = 0; b < es; b++) {
            dense.put((int) (((long) o * in + i) * es + b), v.get((int) (next * es + b)));
          }
          next++;
        }
      }
    }
    if (next != values.elementCount()) {
      throw new IllegalArgumentException(
          prefix + ".compressed has " + values.elementCount() + " values, the mask sets " + next);
    }
    return Tensor.of(prefix + ".weight", values.dtype(), new long[] {out, in}, dense);
  }

  private static int[] dims(String prefix, Tensor w) {
    if (w.rank() != 2 || !w.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException(
          prefix
              + ": weight is "
              + w.dtype()
              + " "
              + w.shapeString()
              + ", expected a float matrix");
    }
    return new int[] {(int) w.dim(0), (int) w.dim(1)};
  }

  private static void copy(ByteBuffer src, long at, ByteBuffer dst, int es) {
    for (int b = 0; b < es; b++) {
      dst.put(src.get((int) (at + b)));
    }
  }

  private static Tensor require(Map<String, Tensor> tensors, String name) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException("tensor " + name + " is missing");
    }
    return t;
  }
}
