package dev.compress.api.io.onnx;

import static dev.compress.api.io.onnx.OnnxSchema.FIXED32;
import static dev.compress.api.io.onnx.OnnxSchema.LEN;
import static dev.compress.api.io.onnx.OnnxSchema.VARINT;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One protobuf message being encoded, whose size is known as soon as it is built: small fields are
 * encoded into heap runs, large byte payloads (tensor data) are kept by reference, and embedded
 * messages are built first and then attached with their length. {@link #writeTo} then streams the
 * tree, so tensor bytes go from their (usually memory-mapped) buffers straight to the channel.
 */
final class WireMessage {
  /** Byte payloads at least this large are referenced, not copied. */
  private static final int REFERENCE_THRESHOLD = 4096;

  private final List<Object> parts = new ArrayList<>(); // byte[] runs, ByteBuffer, WireMessage
  private byte[] run = new byte[32];
  private int runLen;
  private long size;

  /** Encoded size in bytes. */
  long size() {
    return size;
  }

  void varint(int field, long v) {
    tag(field, VARINT);
    putVarint(v);
  }

  void float32(int field, float v) {
    tag(field, FIXED32);
    int bits = Float.floatToRawIntBits(v);
    for (int i = 0; i < 4; i++) {
      put((byte) (bits >>> (8 * i)));
    }
  }

  void bytes(int field, byte[] b) {
    tag(field, LEN);
    putVarint(b.length);
    put(b, 0, b.length);
  }

  void string(int field, String s) {
    bytes(field, s.getBytes(StandardCharsets.UTF_8));
  }

  /** A string field, left out when empty. */
  void optString(int field, String s) {
    if (!s.isEmpty()) {
      string(field, s);
    }
  }

  /** A bytes field whose payload is streamed from {@code b} (position to limit) when large. */
  void bytes(int field, ByteBuffer b) {
    tag(field, LEN);
    putVarint(b.remaining());
    payload(b);
  }

  void message(int field, WireMessage m) {
    tag(field, LEN);
    putVarint(m.size);
    flushRun();
    parts.add(m);
    size += m.size;
  }

  /** A field kept raw by a reader: tag, length for wire type 2, then the payload unchanged. */
  void raw(int field, int wire, ByteBuffer payload) {
    tag(field, wire);
    if (wire == LEN) {
      putVarint(payload.remaining());
    }
    payload(payload);
  }

  /** Already-encoded fields (tags included), appended unchanged. */
  void encoded(ByteBuffer fields) {
    payload(fields);
  }

  private void payload(ByteBuffer b) {
    int n = b.remaining();
    if (n >= REFERENCE_THRESHOLD) {
      flushRun();
      parts.add(b.duplicate());
      size += n;
    } else {
      ensure(n);
      b.duplicate().get(run, runLen, n);
      runLen += n;
      size += n;
    }
  }

  private void tag(int field, int wire) {
    putVarint(((long) field << 3) | wire);
  }

  private void putVarint(long v) {
    ensure(10);
    while ((v & ~0x7FL) != 0) {
      run[runLen++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
      size++;
    }
    run[runLen++] = (byte) v;
    size++;
  }

  private void put(byte b) {
    ensure(1);
    run[runLen++] = b;
    size++;
  }

  private void put(byte[] b, int off, int len) {
    ensure(len);
    System.arraycopy(b, off, run, runLen, len);
    runLen += len;
    size += len;
  }

  private void ensure(int more) {
    if (runLen + more > run.length) {
      run = Arrays.copyOf(run, Math.max(run.length * 2, runLen + more));
    }
  }

  private void flushRun() {
    if (runLen > 0) {
      parts.add(Arrays.copyOf(run, runLen));
      runLen = 0;
    }
  }

  /** Streams the encoded message to {@code out}. */
  void writeTo(Output out) throws IOException {
    for (Object p : parts) {
      switch (p) {
        case byte[] b -> out.write(b, 0, b.length);
        case ByteBuffer b -> out.write(b.duplicate());
        case WireMessage m -> m.writeTo(out);
        default -> throw new IllegalStateException("unexpected part " + p);
      }
    }
    out.write(run, 0, runLen);
  }

  /** The encoded message as a heap array (for small messages and tests). */
  byte[] toByteArray() {
    if (size > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("message of " + size + " bytes does not fit in an array");
    }
    ByteBuffer all = ByteBuffer.allocate((int) size);
    try {
      Output o = new Output(new HeapChannel(all), ByteBuffer.allocate(8192));
      writeTo(o);
      o.flush();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return all.array();
  }

  /**
   * Buffered output to a channel: small writes are gathered in a direct staging buffer, large
   * direct (memory-mapped) buffers are written straight through, large heap buffers through the
   * staging buffer a piece at a time.
   */
  static final class Output {
    private final WritableByteChannel ch;
    private final ByteBuffer stage;
    private long written;

    /** Output to a file: a direct 1 MiB staging buffer. */
    Output(WritableByteChannel ch) {
      this(ch, ByteBuffer.allocateDirect(1 << 20));
    }

    Output(WritableByteChannel ch, ByteBuffer stage) {
      this.ch = ch;
      this.stage = stage;
    }

    void write(byte[] b, int off, int len) throws IOException {
      written += len;
      while (len > 0) {
        if (!stage.hasRemaining()) {
          flush();
        }
        int n = Math.min(len, stage.remaining());
        stage.put(b, off, n);
        off += n;
        len -= n;
      }
    }

    void write(ByteBuffer b) throws IOException {
      written += b.remaining();
      if (b.remaining() <= stage.remaining()) {
        stage.put(b);
        return;
      }
      flush();
      if (!b.isDirect()) {
        // A channel copies a heap buffer into a temporary direct buffer of its whole size (as
        // much native memory as the tensor); go through the staging buffer a piece at a time.
        while (b.hasRemaining()) {
          int n = Math.min(b.remaining(), stage.remaining());
          stage.put(b.slice(b.position(), n));
          b.position(b.position() + n);
          flush();
        }
        return;
      }
      while (b.hasRemaining()) {
        ch.write(b);
      }
    }

    /** Writes {@code n} zero bytes (alignment padding). */
    void zeros(long n) throws IOException {
      byte[] z = new byte[(int) Math.min(n, 4096)];
      for (long left = n; left > 0; left -= z.length) {
        write(z, 0, (int) Math.min(left, z.length));
      }
    }

    /** Bytes written so far, including those still staged. */
    long position() {
      return written;
    }

    void flush() throws IOException {
      stage.flip();
      while (stage.hasRemaining()) {
        ch.write(stage);
      }
      stage.clear();
    }
  }

  /** A channel over a heap buffer. */
  private record HeapChannel(ByteBuffer dst) implements WritableByteChannel {
    @Override
    public int write(ByteBuffer src) {
      int n = src.remaining();
      dst.put(src);
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
