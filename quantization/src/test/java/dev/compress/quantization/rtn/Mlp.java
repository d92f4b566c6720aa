package dev.compress.quantization.rtn;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.tensor.Tensor;
import dev.compress.fixtures.TinyModels;

/**
 * The RTN tests' names for the shared fixture {@link TinyModels#mlp}: {@code x[b, in] -> MatMul
 * W1[in, hidden] -> Add b1 -> Relu -> Gemm(W2[out, hidden], b2, transB=1) -> y[b, out]}, the same
 * model (bit for bit) this class built before the fixtures existed.
 */
final class Mlp {
  static final String FC1 = TinyModels.MLP_FC1;
  static final String FC2 = TinyModels.MLP_FC2;

  private Mlp() {}

  static ModelGraph build(long opset, int in, int hidden, int out, long seed) {
    return TinyModels.mlp(opset, in, hidden, out, seed, true);
  }

  /** As above; with {@code transB = false} the Gemm weight is stored {@code [hidden, out]}. */
  static ModelGraph build(long opset, int in, int hidden, int out, long seed, boolean transB) {
    return TinyModels.mlp(opset, in, hidden, out, seed, transB);
  }

  /** A seeded input batch {@code [batch, in]}. */
  static Tensor input(long seed, int batch, int in) {
    return TinyModels.mlpInput(seed, batch, in);
  }
}
