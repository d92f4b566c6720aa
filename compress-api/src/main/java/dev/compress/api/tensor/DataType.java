package dev.compress.api.tensor;

import java.util.Optional;

/**
 * Element types of tensors, with their ONNX {@code TensorProto.DataType} codes and safetensors
 * names. Sub-byte types (int4, int2, fp4) are packed little-end first: element {@code 2k} in the
 * low nibble of byte {@code k}, as ONNX stores them.
 */
public enum DataType {
  FLOAT(1, 32, "F32"),
  UINT8(2, 8, "U8"),
  INT8(3, 8, "I8"),
  UINT16(4, 16, "U16"),
  INT16(5, 16, "I16"),
  INT32(6, 32, "I32"),
  INT64(7, 64, "I64"),
  /** Variable-length byte strings; never memory-mapped, stored as a list. */
  STRING(8, 0, null),
  BOOL(9, 8, "BOOL"),
  FLOAT16(10, 16, "F16"),
  DOUBLE(11, 64, "F64"),
  UINT32(12, 32, "U32"),
  UINT64(13, 64, "U64"),
  COMPLEX64(14, 64, "C64"),
  COMPLEX128(15, 128, null),
  BFLOAT16(16, 16, "BF16"),
  FLOAT8E4M3FN(17, 8, "F8_E4M3"),
  FLOAT8E4M3FNUZ(18, 8, null),
  FLOAT8E5M2(19, 8, "F8_E5M2"),
  FLOAT8E5M2FNUZ(20, 8, null),
  UINT4(21, 4, null),
  INT4(22, 4, null),
  FLOAT4E2M1(23, 4, null),
  FLOAT8E8M0(24, 8, "F8_E8M0"),
  UINT2(25, 2, null),
  INT2(26, 2, null);

  private final int onnxCode;
  private final int bits;
  private final String safetensorsName;

  DataType(int onnxCode, int bits, String safetensorsName) {
    this.onnxCode = onnxCode;
    this.bits = bits;
    this.safetensorsName = safetensorsName;
  }

  /** The {@code TensorProto.DataType} value. */
  public int onnxCode() {
    return onnxCode;
  }

  /** Bits per element (0 for {@link #STRING}). */
  public int bits() {
    return bits;
  }

  /** True for types narrower than a byte, stored packed. */
  public boolean isPacked() {
    return bits > 0 && bits < 8;
  }

  /** True for floating-point types of any width. */
  public boolean isFloatingPoint() {
    return switch (this) {
      case FLOAT,
          DOUBLE,
          FLOAT16,
          BFLOAT16,
          FLOAT8E4M3FN,
          FLOAT8E4M3FNUZ,
          FLOAT8E5M2,
          FLOAT8E5M2FNUZ,
          FLOAT4E2M1,
          FLOAT8E8M0 ->
          true;
      default -> false;
    };
  }

  /** The safetensors dtype string, if the format has one for this type. */
  public Optional<String> safetensorsName() {
    return Optional.ofNullable(safetensorsName);
  }

  /**
   * Bytes needed to hold {@code elements} elements, rounding packed types up to whole bytes.
   *
   * @throws ArithmeticException on overflow
   * @throws IllegalStateException for {@link #STRING}
   */
  public long byteSize(long elements) {
    if (bits == 0) {
      throw new IllegalStateException("STRING tensors have no fixed byte size");
    }
    return (Math.multiplyExact(elements, (long) bits) + 7) / 8;
  }

  /** The type with the given ONNX code, if known. */
  public static Optional<DataType> fromOnnx(int code) {
    for (DataType t : values()) {
      if (t.onnxCode == code) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /** The type with the given safetensors dtype string, if known. */
  public static Optional<DataType> fromSafetensors(String name) {
    for (DataType t : values()) {
      if (name.equals(t.safetensorsName)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
