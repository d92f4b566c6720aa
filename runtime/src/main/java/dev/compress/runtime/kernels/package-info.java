/**
 * Quantized linear layers executed for real, {@code Y[M,N] = X[M,K] · W} with the weight kept
 * quantized and dequantized inside the dot product:
 *
 * <ul>
 *   <li>{@link dev.compress.runtime.kernels.Int4Linear}: 4-bit blocks (16 to 256, symmetric or with
 *       zero points) read from ONNX Runtime's {@code MatMulNBits} layout;
 *   <li>{@link dev.compress.runtime.kernels.Int8Linear}: 8-bit weight-only, per output channel
 *       (int8, or uint8 with zero points);
 *   <li>{@link dev.compress.runtime.kernels.W8A8Linear}: 8-bit activations × 8-bit weights, int32
 *       accumulation, one f32 rescale per output.
 * </ul>
 *
 * <p>Each has a plain scalar reference and a JDK Vector API implementation (256-bit, AVX2); both
 * split N across a shared {@link dev.compress.runtime.kernels.KernelPool} ({@code
 * -Dcompress.kernels.threads=N}, default: available processors) and, for several rows of X, process
 * four rows per decoded weight row over N-tiles sized to stay in L2. Weights are repacked once at
 * construction into 256-bit-load-friendly blocks.
 *
 * <p>The Vector API is an incubator module: start the JVM with {@code --add-modules
 * jdk.incubator.vector} (the {@code compress} launcher, the tests and the benchmarks do). Without
 * it {@link dev.compress.runtime.kernels.VectorSupport#available()} is false and every kernel runs
 * its scalar version; nothing fails. {@code -Dcompress.kernels.vector=false} forces scalar. Results
 * are deterministic for a given batch size M (a fixed lane-reduction order); rows computed in a
 * 4-row tile and rows computed alone may differ in the last bits.
 */
package dev.compress.runtime.kernels;
