package dev.compress.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * Copies between api {@link Tensor}s and DJL {@link NDArray}s, and maps their element types. An
 * NDArray made here never aliases the tensor's buffer (a memory-mapped weight is copied, so the
 * mapping can go away); heap bytes are staged through a reused per-thread direct buffer, since
 * fresh direct buffers are freed only by the garbage collector.
 */
public final class TensorNd {
  private TensorNd() {}

  /** Heap tensors up to this size are staged in a reused per-thread direct buffer. */
  private static final int SCRATCH_LIMIT = 16 << 20;

  private static final ThreadLocal<ByteBuffer> SCRATCH =
      ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(0));

  /** The DJL type for an api type, if DJL has one. */
  public static Optional<ai.djl.ndarray.types.DataType> toDjl(DataType t) {
    return Optional.ofNullable(
        switch (t) {
          case FLOAT -> ai.djl.ndarray.types.DataType.FLOAT32;
          case DOUBLE -> ai.djl.ndarray.types.DataType.FLOAT64;
          case FLOAT16 -> ai.djl.ndarray.types.DataType.FLOAT16;
          case BFLOAT16 -> ai.djl.ndarray.types.DataType.BFLOAT16;
          case INT8 -> ai.djl.ndarray.types.DataType.INT8;
          case UINT8 -> ai.djl.ndarray.types.DataType.UINT8;
          case INT16 -> ai.djl.ndarray.types.DataType.INT16;
          case INT32 -> ai.djl.ndarray.types.DataType.INT32;
          case INT64 -> ai.djl.ndarray.types.DataType.INT64;
          case BOOL -> ai.djl.ndarray.types.DataType.BOOLEAN;
          default -> null;
        });
  }

  /** The api type for a DJL type. */
  public static DataType fromDjl(ai.djl.ndarray.types.DataType t) {
    return switch (t) {
      case FLOAT32 -> DataType.FLOAT;
      case FLOAT64 -> DataType.DOUBLE;
      case FLOAT16 -> DataType.FLOAT16;
      case BFLOAT16 -> DataType.BFLOAT16;
      case INT8 -> DataType.INT8;
      case UINT8 -> DataType.UINT8;
      case INT16 -> DataType.INT16;
      case INT32 -> DataType.INT32;
      case INT64 -> DataType.INT64;
      case BOOLEAN -> DataType.BOOL;
      default -> throw new IllegalStateException("no api element type for DJL type " + t);
    };
  }

  /**
   * A new array of {@code manager} holding a copy of {@code t}.
   *
   * @throws IllegalArgumentException for element types DJL lacks
   */
  public static NDArray toNd(Tensor t, NDManager manager) {
    ai.djl.ndarray.types.DataType type =
        toDjl(t.dtype())
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "tensor '" + t.name() + "' has element type " + t.dtype()));
    Shape shape = new Shape(t.shape());
    ByteBuffer data = t.data();
    if (!data.isDirect()) {
      int n = data.remaining();
      ByteBuffer staging;
      if (n <= SCRATCH_LIMIT) {
        staging = SCRATCH.get();
        if (staging.capacity() < n) {
          staging = ByteBuffer.allocateDirect(Math.max(n, 2 * staging.capacity()));
          SCRATCH.set(staging);
        }
      } else {
        staging = ByteBuffer.allocateDirect(n); // large (weights at load time): one-off
      }
      staging.clear();
      staging.put(data).flip();
      data = staging.order(ByteOrder.nativeOrder());
    }
    // A zero-copy view of the direct bytes (possibly mapped, unaligned, read-only), then a copy
    // the engine owns; the view is closed at once.
    try (NDArray view = manager.create(data, shape, type)) {
      return view.duplicate();
    }
  }

  /** Copies {@code a} (from any device) into a heap tensor named {@code name}. */
  public static Tensor toTensor(String name, NDArray a) {
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new IllegalStateException("big-endian hosts are not supported");
    }
    DataType type = fromDjl(a.getDataType());
    long[] shape = a.getShape().getShape();
    ByteBuffer src = a.toByteBuffer();
    ByteBuffer heap = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    heap.put(src.order(ByteOrder.nativeOrder()));
    heap.flip();
    return Tensor.of(name, type, shape, heap);
  }
}
