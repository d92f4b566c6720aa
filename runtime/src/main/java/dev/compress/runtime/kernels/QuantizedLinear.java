package dev.compress.runtime.kernels;

/**
 * A linear layer {@code Y[M,N] = X[M,K] · W} whose weight {@code W [K,N]} is held quantized and
 * repacked once at construction; every product dequantizes on the fly inside the dot product (no
 * float copy of the weight exists).
 *
 * <p>{@code x} is row-major {@code [m, K]}, {@code y} row-major {@code [m, N]}; both are plain heap
 * arrays. Implementations are immutable and safe to call from several threads at once.
 */
public sealed interface QuantizedLinear permits Int8Linear, Int4Linear, W8A8Linear {

  /** Which implementation computes a product. */
  enum Impl {
    /** The Vector API kernel when {@link VectorSupport#available()}, else the scalar one. */
    AUTO,
    /** The plain-Java reference kernel. */
    SCALAR,
    /** The Vector API kernel; fails when it is unavailable. */
    VECTOR
  }

  /** {@code K}. */
  int inFeatures();

  /** {@code N}. */
  int outFeatures();

  /** Bytes of the quantized weight as stored in the model (codes, scales, zero points). */
  long weightBytes();

  /**
   * {@code y = x · W} on the shared pool with the best available implementation.
   *
   * @throws IllegalArgumentException when the array lengths do not match {@code m}, K and N
   */
  default void multiply(float[] x, int m, float[] y) {
    multiply(x, m, y, Impl.AUTO, KernelPool.shared());
  }

  /** {@code y = x · W} with the given implementation on the given pool. */
  void multiply(float[] x, int m, float[] y, Impl impl, KernelPool pool);

  /** Checks array sizes; resolves {@link Impl#AUTO}. */
  static boolean useVector(Impl impl) {
    return switch (impl) {
      case SCALAR -> false;
      case VECTOR -> {
        if (!VectorSupport.available()) {
          throw new IllegalStateException(
              "the Vector API kernels are unavailable: " + VectorSupport.reason());
        }
        yield true;
      }
      case AUTO -> VectorSupport.available();
    };
  }

  /** Fails unless {@code x} holds {@code m*k} values and {@code y} {@code m*n}. */
  static void checkSizes(float[] x, int m, float[] y, int k, int n) {
    if (m < 0 || x.length != (long) m * k || y.length != (long) m * n) {
      throw new IllegalArgumentException(
          "x must hold m*K = "
              + (long) m * k
              + " and y m*N = "
              + (long) m * n
              + " values (m="
              + m
              + ", K="
              + k
              + ", N="
              + n
              + "), found "
              + x.length
              + " and "
              + y.length);
    }
  }
}
