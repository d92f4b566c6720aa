package dev.compress.runtime.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import dev.compress.training.TensorNd;
import java.util.Optional;

/** Conversions between api tensors and DJL NDArrays, and between their element types. */
final class NdConvert {
  private NdConvert() {}

  /** The DJL type for an api type, if DJL's PyTorch engine has one. */
  static Optional<ai.djl.ndarray.types.DataType> toDjl(DataType t) {
    return TensorNd.toDjl(t);
  }

  /** The api type for a DJL type. */
  static DataType fromDjl(ai.djl.ndarray.types.DataType t) {
    return TensorNd.fromDjl(t);
  }

  /** Copies {@code t} into a new NDArray of {@code manager} (see {@link TensorNd#toNd}). */
  static NDArray toNd(Tensor t, NDManager manager) {
    return TensorNd.toNd(t, manager);
  }

  /** Copies {@code a} into a heap tensor named {@code name} (from any device). */
  static Tensor toTensor(String name, NDArray a) {
    return TensorNd.toTensor(name, a);
  }
}
