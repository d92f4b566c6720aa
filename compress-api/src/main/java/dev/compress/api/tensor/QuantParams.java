package dev.compress.api.tensor;

import java.util.Optional;

/**
 * How the integer (or fp8) values of a quantized tensor map back to real numbers: {@code real = (q
 * - zeroPoint) * scale}.
 *
 * <p>Granularity follows from {@code axis} and {@code blockSize}: per-tensor when {@code scale} is
 * a scalar; per-channel along {@code axis} when {@code blockSize == 0}; per-group (block) of {@code
 * blockSize} consecutive elements along {@code axis} otherwise, as in ONNX's blocked
 * DequantizeLinear.
 *
 * @param scale scales, f32/f16/bf16; shape: scalar, {@code [channels]}, or the weight shape with
 *     {@code axis} divided by {@code blockSize}
 * @param zeroPoint zero points of the stored type (may be packed), or null for symmetric
 * @param axis the quantization axis (ignored for per-tensor)
 * @param blockSize group size along {@code axis}, 0 when not grouped
 */
public record QuantParams(Tensor scale, Tensor zeroPoint, int axis, int blockSize) {

  /** Validates the arguments. */
  public QuantParams {
    if (scale == null) {
      throw new IllegalArgumentException("quantization scale is required");
    }
    if (blockSize < 0) {
      throw new IllegalArgumentException("blockSize must be >= 0, found " + blockSize);
    }
  }

  /** The zero point, absent for symmetric quantization. */
  public Optional<Tensor> zeroPointOpt() {
    return Optional.ofNullable(zeroPoint);
  }

  /** True when the scale holds one value. */
  public boolean perTensor() {
    return scale.elementCount() == 1;
  }
}
