package dev.compress.api.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A named, immutable tensor: element type, shape and little-endian bytes.
 *
 * <p>The bytes are held as a read-only {@link ByteBuffer}, which for weights read from a checkpoint
 * is a slice of a memory-mapped file rather than a heap copy; a model far larger than the heap can
 * be inspected and streamed to a new file. Sub-byte types are packed as {@link DataType} describes.
 * {@link DataType#STRING} tensors hold their values as a list of byte arrays instead.
 *
 * <p>Quantization parameters, when present, say how the stored values map back to real numbers.
 */
public final class Tensor {
  private final String name;
  private final DataType dtype;
  private final long[] shape;
  private final ByteBuffer data; // read-only, little-endian, position 0, exact length
  private final List<byte[]> strings; // only for STRING
  private final QuantParams quant;
  private final String docString;
  private final ByteBuffer preservedBytes; // read-only, never null

  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();

  private Tensor(
      String name,
      DataType dtype,
      long[] shape,
      ByteBuffer data,
      List<byte[]> strings,
      QuantParams quant,
      String docString,
      ByteBuffer preservedBytes) {
    this.name = Objects.requireNonNull(name, "name");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape.clone();
    long n = elementCount(this.shape);
    if (dtype == DataType.STRING) {
      Objects.requireNonNull(strings, "strings");
      if (strings.size() != n) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': " + strings.size() + " strings for shape " + shapeString());
      }
      this.strings = List.copyOf(strings);
      this.data = null;
    } else {
      Objects.requireNonNull(data, "data");
      long expected = dtype.byteSize(n);
      if (data.remaining() != expected) {
        throw new IllegalArgumentException(
            "tensor '"
                + name
                + "': "
                + dtype
                + " "
                + shapeString()
                + " needs "
                + expected
                + " bytes, found "
                + data.remaining());
      }
      this.data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
      this.strings = null;
    }
    this.quant = quant;
    this.docString = docString == null ? "" : docString;
    this.preservedBytes =
        preservedBytes == null ? EMPTY : preservedBytes.slice().asReadOnlyBuffer();
  }

  /** A tensor over the given little-endian bytes (not copied; the buffer must not change). */
  public static Tensor of(String name, DataType dtype, long[] shape, ByteBuffer data) {
    return new Tensor(name, dtype, shape, data, null, null, null, null);
  }

  /** A {@link DataType#STRING} tensor. */
  public static Tensor ofStrings(String name, long[] shape, List<byte[]> values) {
    return new Tensor(name, DataType.STRING, shape, null, values, null, null, null);
  }

  /** A f32 tensor copying {@code values}. */
  public static Tensor ofFloats(String name, long[] shape, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return of(name, DataType.FLOAT, shape, b);
  }

  /**
   * A tensor of a float type holding {@code values} rounded to it: {@link DataType#FLOAT} copies
   * them, {@link DataType#FLOAT16} and {@link DataType#BFLOAT16} round to nearest, ties to even
   * (NaN stays NaN). {@link #readFloats} reads back the rounded values.
   *
   * @throws IllegalArgumentException for another type
   */
  public static Tensor ofFloats(String name, DataType dtype, long[] shape, float... values) {
    if (dtype == DataType.FLOAT) {
      return ofFloats(name, shape, values);
    }
    if (dtype != DataType.FLOAT16 && dtype != DataType.BFLOAT16) {
      throw new IllegalArgumentException(
          "tensor '" + name + "': cannot store floats as " + dtype + " (FLOAT, FLOAT16, BFLOAT16)");
    }
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i++) {
      b.putShort(
          i * 2,
          dtype == DataType.FLOAT16 ? Float.floatToFloat16(values[i]) : toBfloat16(values[i]));
    }
    return of(name, dtype, shape, b);
  }

  /** {@code v} rounded to bfloat16 (nearest, ties to even; NaN kept quiet). */
  private static short toBfloat16(float v) {
    int bits = Float.floatToRawIntBits(v);
    if (Float.isNaN(v)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7fff + lsb) >>> 16);
  }

  /** An int64 tensor copying {@code values}. */
  public static Tensor ofLongs(String name, long[] shape, long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(values);
    return of(name, DataType.INT64, shape, b);
  }

  /** An int32 tensor copying {@code values}. */
  public static Tensor ofInts(String name, long[] shape, int... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(values);
    return of(name, DataType.INT32, shape, b);
  }

  /** An int8 or uint8 (or bool) tensor copying {@code values}. */
  public static Tensor ofBytes(String name, DataType dtype, long[] shape, byte... values) {
    return of(name, dtype, shape, ByteBuffer.wrap(values.clone()));
  }

  /** The same tensor under another name. */
  public Tensor withName(String newName) {
    return new Tensor(newName, dtype, shape, data, strings, quant, docString, preservedBytes);
  }

  /** The same tensor with quantization parameters attached (null removes them). */
  public Tensor withQuant(QuantParams params) {
    return new Tensor(name, dtype, shape, data, strings, params, docString, preservedBytes);
  }

  /** The same tensor with a doc string. */
  public Tensor withDocString(String doc) {
    return new Tensor(name, dtype, shape, data, strings, quant, doc, preservedBytes);
  }

  /** The same bytes seen with another shape of equal element count. */
  public Tensor reshape(long... newShape) {
    if (elementCount(newShape) != elementCount()) {
      throw new IllegalArgumentException(
          "cannot reshape '" + name + "' " + shapeString() + " to " + Arrays.toString(newShape));
    }
    return new Tensor(name, dtype, newShape, data, strings, quant, docString, preservedBytes);
  }

  public String name() {
    return name;
  }

  public DataType dtype() {
    return dtype;
  }

  /** A copy of the shape. */
  public long[] shape() {
    return shape.clone();
  }

  /** Number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** Size of dimension {@code i} (negative counts from the end). */
  public long dim(int i) {
    return shape[i < 0 ? shape.length + i : i];
  }

  /** Product of the dimensions (1 for a scalar). */
  public long elementCount() {
    return elementCount(shape);
  }

  /** Bytes of element data (for strings: the sum of their lengths). */
  public long byteSize() {
    if (strings != null) {
      long s = 0;
      for (byte[] b : strings) {
        s += b.length;
      }
      return s;
    }
    return data.capacity();
  }

  /** A fresh read-only little-endian view of the bytes (position 0). Not for STRING tensors. */
  public ByteBuffer data() {
    if (data == null) {
      throw new IllegalStateException("STRING tensor '" + name + "' has no byte data");
    }
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The values of a STRING tensor. */
  public List<byte[]> strings() {
    if (strings == null) {
      throw new IllegalStateException("tensor '" + name + "' is " + dtype + ", not STRING");
    }
    return strings;
  }

  /** Quantization parameters, if this tensor holds quantized values. */
  public Optional<QuantParams> quant() {
    return Optional.ofNullable(quant);
  }

  public String docString() {
    return docString;
  }

  /**
   * Fields of the tensor's checkpoint record that the toolkit does not model (for ONNX: {@code
   * TensorProto} fields such as {@code metadata_props}, as encoded protobuf fields, tags included),
   * written back unchanged by the writer of the same format. Empty for tensors built in code.
   */
  public ByteBuffer preservedBytes() {
    return preservedBytes.duplicate();
  }

  /** The same tensor carrying {@code encoded} as its {@link #preservedBytes()} (not copied). */
  public Tensor withPreservedBytes(ByteBuffer encoded) {
    return new Tensor(name, dtype, shape, data, strings, quant, docString, encoded);
  }

  /**
   * The values widened to f32 (a heap copy). Supports the float types, bool and the integer types;
   * packed int4/uint4 are unpacked. Quantization parameters are not applied.
   */
  public float[] toFloatArray() {
    int n = checkedCount();
    float[] out = new float[n];
    readFloats(0, out, 0, n);
    return out;
  }

  /**
   * Reads {@code length} consecutive elements from flat index {@code start} (row-major), widened to
   * f32 as {@link #toFloatArray()} does, into {@code dst[offset, offset + length)}. Nothing else is
   * copied: over a memory-mapped tensor this reads a block of rows without the whole tensor on the
   * heap.
   *
   * @throws IndexOutOfBoundsException when the range is outside the tensor or {@code dst}
   * @throws UnsupportedOperationException for a type {@link #toFloatArray()} does not convert
   */
  public void readFloats(long start, float[] dst, int offset, int length) {
    Objects.checkFromIndexSize(start, length, elementCount());
    Objects.checkFromIndexSize(offset, length, dst.length);
    ByteBuffer b = data();
    int s = (int) start; // a ByteBuffer holds fewer than 2^31 bytes, so fewer elements
    switch (dtype) {
      case FLOAT -> b.asFloatBuffer().get(s, dst, offset, length);
      case DOUBLE -> {
        for (int i = 0; i < length; i++) {
          dst[offset + i] = (float) b.getDouble((s + i) * 8);
        }
      }
      case FLOAT16 -> {
        for (int i = 0; i < length; i++) {
          dst[offset + i] = Float.float16ToFloat(b.getShort((s + i) * 2));
        }
      }
      case BFLOAT16 -> {
        for (int i = 0; i < length; i++) {
          dst[offset + i] = Float.intBitsToFloat((b.getShort((s + i) * 2) & 0xffff) << 16);
        }
      }
      case INT8 -> {
        for (int i = 0; i < length; i++) {
          dst[offset + i] = b.get(s + i);
        }
      }
      case UINT8, BOOL -> {
        for (int i = 0; i < length; i++) {
          dst[offset + i] = b.get(s + i) & 0xff;
        }
      }
      case INT16 -> {
        for (int i = 0; i < length; i++) {
          dst[offset + i] = b.getShort((s + i) * 2);
        }
      }
      case UINT16 -> {
        for (int i = 0; i < length; i++) {
          dst[offset + i] = b.getShort((s + i) * 2) & 0xffff;
        }
      }
      case INT32 -> {
        for (int i = 0; i < length; i++) {
          dst[offset + i] = b.getInt((s + i) * 4);
        }
      }
      case INT64 -> {
        for (int i = 0; i < length; i++) {
          dst[offset + i] = b.getLong((s + i) * 8);
        }
      }
      case INT4, UINT4 -> {
        for (int i = 0; i < length; i++) {
          int e = s + i;
          int nibble = (b.get(e >> 1) >> ((e & 1) * 4)) & 0xf;
          dst[offset + i] = dtype == DataType.INT4 ? ((nibble << 28) >> 28) : nibble;
        }
      }
      default ->
          throw new UnsupportedOperationException(
              "tensor '" + name + "': conversion of " + dtype + " to f32 is not supported");
    }
  }

  /** The values of an integer tensor widened to int64 (a heap copy). */
  public long[] toLongArray() {
    int n = checkedCount();
    long[] out = new long[n];
    ByteBuffer b = data();
    switch (dtype) {
      case INT64 -> b.asLongBuffer().get(out);
      case INT32 -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.getInt(i * 4);
        }
      }
      case INT16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.getShort(i * 2);
        }
      }
      case INT8 -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.get(i);
        }
      }
      case UINT8, BOOL -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.get(i) & 0xff;
        }
      }
      case UINT32 -> {
        for (int i = 0; i < n; i++) {
          out[i] = b.getInt(i * 4) & 0xffffffffL;
        }
      }
      case UINT64 -> b.asLongBuffer().get(out);
      default -> {
        float[] f = toFloatArray();
        for (int i = 0; i < n; i++) {
          out[i] = (long) f[i];
        }
      }
    }
    return out;
  }

  private int checkedCount() {
    long n = elementCount();
    if (n > Integer.MAX_VALUE - 8) {
      throw new UnsupportedOperationException(
          "tensor '" + name + "' has " + n + " elements, too many for one heap array");
    }
    return (int) n;
  }

  /** Shape as {@code [a, b, c]}. */
  public String shapeString() {
    return Arrays.toString(shape);
  }

  /** Product of {@code shape} (1 for an empty shape); throws on overflow or negative dims. */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  @Override
  public String toString() {
    return "Tensor[" + name + ", " + dtype + " " + shapeString() + "]";
  }
}
