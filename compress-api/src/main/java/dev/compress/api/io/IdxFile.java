package dev.compress.api.io;

import dev.compress.api.CompressionException;
import dev.compress.api.CorruptCheckpointException;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * One IDX file (LeCun's MNIST format, also Fashion-MNIST's), the single reader behind the image
 * calibration data, the training module's labelled images and the evaluation's classification data.
 * A file whose name ends in {@code .gz} is decompressed first.
 *
 * <p>Layout: a big-endian magic {@code 0x0000TTNN}, {@code TT} the element type ({@code 0x08}
 * unsigned bytes, {@code 0x0D} float32; the other IDX types are refused), {@code NN >= 1} the
 * number of dimensions; then one big-endian 32-bit size per dimension; then the elements, row-major
 * and big-endian. The first dimension counts the items (images, labels), the product of the others
 * is the number of elements per item ({@code 0x00000803} for images {@code n x rows x cols}, {@code
 * 0x00000801} for labels {@code n}). The body must hold exactly the elements the dimensions say.
 *
 * @param file the file read, for messages
 * @param type {@link #UBYTE} or {@link #FLOAT}
 * @param dims the sizes, the first counting items
 * @param body the bytes after the header
 */
public record IdxFile(Path file, int type, long[] dims, ByteBuffer body) {
  /** IDX element type: unsigned bytes. */
  public static final int UBYTE = 0x08;

  /** IDX element type: big-endian float32. */
  public static final int FLOAT = 0x0D;

  /** Copies the dimensions and takes a read-only, big-endian view of the body. */
  public IdxFile {
    dims = dims.clone();
    body = body.asReadOnlyBuffer().order(ByteOrder.BIG_ENDIAN);
  }

  /**
   * The header of {@code file}: element type and dimensions, read without the body (for checks at
   * plan time).
   *
   * @throws CorruptCheckpointException when the file cannot be read or has no valid IDX header
   */
  public static IdxFile header(Path file) throws CompressionException {
    try (InputStream in = open(file);
        DataInputStream d = new DataInputStream(in)) {
      int magic = d.readInt();
      long[] dims = dims(file, magic, d);
      return new IdxFile(file, (magic >>> 8) & 0xFF, dims, ByteBuffer.allocate(0));
    } catch (EOFException e) {
      throw new CorruptCheckpointException(file, -1, "truncated IDX header");
    } catch (IOException e) {
      throw new CorruptCheckpointException(file, -1, "cannot read: " + e.getMessage(), e);
    }
  }

  /**
   * Reads {@code file} whole and checks its size against its dimensions.
   *
   * @throws CorruptCheckpointException naming the file for a bad magic, a truncated header or a
   *     body that does not match the dimensions
   */
  public static IdxFile read(Path file) throws CompressionException {
    byte[] bytes;
    try (InputStream in = open(file)) {
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new CorruptCheckpointException(file, -1, "cannot read: " + e.getMessage(), e);
    }
    return parse(file, bytes);
  }

  /** Parses the bytes of an IDX file ({@code file} names it in messages). */
  public static IdxFile parse(Path file, byte[] bytes) throws CompressionException {
    if (bytes.length < 4) {
      throw new CorruptCheckpointException(
          file, 0, "IDX file too short for its magic number (" + bytes.length + " bytes)");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
    int magic = b.getInt(0);
    int rank = magic & 0xFF;
    long header = 4L + 4L * rank;
    checkMagic(file, magic);
    if (bytes.length < header) {
      throw new CorruptCheckpointException(
          file,
          bytes.length,
          "truncated IDX header: " + rank + " dimensions need " + header + " bytes");
    }
    long[] dims = new long[rank];
    for (int d = 0; d < rank; d++) {
      dims[d] = Integer.toUnsignedLong(b.getInt(4 + 4 * d));
    }
    IdxFile f =
        new IdxFile(
            file, (magic >>> 8) & 0xFF, dims, b.position((int) header).slice().order(b.order()));
    long per = f.elementsPerItemLong();
    if (per == 0 || per > Integer.MAX_VALUE || dims[0] > Integer.MAX_VALUE) {
      throw new CorruptCheckpointException(
          file, 4, "unsupported IDX dimensions " + Arrays.toString(dims));
    }
    long want;
    try {
      want = Math.multiplyExact(Math.multiplyExact(dims[0], per), (long) f.elementBytes());
    } catch (ArithmeticException e) {
      want = Long.MAX_VALUE;
    }
    long body = bytes.length - header;
    if (want != body) {
      throw new CorruptCheckpointException(
          file,
          header,
          "IDX dimensions "
              + Arrays.toString(dims)
              + " need "
              + want
              + " data bytes but the file holds "
              + body
              + (want > body ? " (truncated)" : ""));
    }
    return f;
  }

  /** The number of items (the first dimension). */
  public int count() {
    return (int) dims[0];
  }

  /** Elements per item: the product of the dimensions after the first (1 for a label file). */
  public int elementsPerItem() {
    return (int) elementsPerItemLong();
  }

  private long elementsPerItemLong() {
    long per = 1;
    for (int d = 1; d < dims.length; d++) {
      per *= dims[d];
      if (per > Integer.MAX_VALUE) {
        return per;
      }
    }
    return per;
  }

  private int elementBytes() {
    return type == UBYTE ? 1 : Float.BYTES;
  }

  /** Item {@code i} as floats: unsigned bytes scaled by {@code 1/255}, float32 as stored. */
  public float[] floats(int i) {
    int per = elementsPerItem();
    float[] out = new float[per];
    if (type == UBYTE) {
      int base = i * per;
      for (int p = 0; p < per; p++) {
        out[p] = (body.get(base + p) & 0xFF) / 255f;
      }
    } else {
      int base = i * per * Float.BYTES;
      for (int p = 0; p < per; p++) {
        out[p] = body.getFloat(base + p * Float.BYTES);
      }
    }
    return out;
  }

  /**
   * The items of a label file: one unsigned byte per item ({@code 0x00000801}).
   *
   * @throws CorruptCheckpointException for any other layout
   */
  public int[] labels() throws CorruptCheckpointException {
    if (type != UBYTE || dims.length != 1) {
      throw new CorruptCheckpointException(
          file,
          0,
          String.format(
              "not an IDX label file: magic 0x%08X (expected 0x00000801, one unsigned byte per"
                  + " label)",
              (type << 8) | dims.length));
    }
    int[] y = new int[count()];
    for (int i = 0; i < y.length; i++) {
      y[i] = body.get(i) & 0xFF;
    }
    return y;
  }

  /** Whether {@code file}'s name says IDX ({@code .idx}, {@code -ubyte}, {@code idx1/idx3}...). */
  public static boolean looksLikeIdx(Path file) {
    String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (n.endsWith(".gz")) {
      n = n.substring(0, n.length() - 3);
    }
    return n.endsWith(".idx") || n.endsWith("-ubyte") || n.contains("idx");
  }

  private static InputStream open(Path file) throws IOException {
    InputStream raw = Files.newInputStream(file);
    return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz")
        ? new GZIPInputStream(raw)
        : raw;
  }

  private static void checkMagic(Path file, int magic) throws CorruptCheckpointException {
    int type = (magic >>> 8) & 0xFF;
    int rank = magic & 0xFF;
    if ((magic >>> 16) != 0 || (type != UBYTE && type != FLOAT) || rank < 1) {
      throw new CorruptCheckpointException(
          file,
          0,
          String.format(
              "not a supported IDX file: magic 0x%08X (expected 0x000008NN for unsigned bytes or"
                  + " 0x00000DNN for float32, NN the number of dimensions >= 1)",
              magic));
    }
  }

  private static long[] dims(Path file, int magic, DataInputStream d)
      throws IOException, CorruptCheckpointException {
    checkMagic(file, magic);
    long[] dims = new long[magic & 0xFF];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = Integer.toUnsignedLong(d.readInt());
    }
    return dims;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IdxFile f
        && type == f.type
        && Arrays.equals(dims, f.dims)
        && body.equals(f.body)
        && java.util.Objects.equals(file, f.file);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(dims) + type;
  }

  @Override
  public String toString() {
    return "IdxFile["
        + file
        + ", type 0x"
        + Integer.toHexString(type)
        + ", "
        + Arrays.toString(dims)
        + "]";
  }
}
