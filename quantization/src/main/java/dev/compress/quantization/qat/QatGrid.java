package dev.compress.quantization.qat;

import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayer.WeightLayout;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.format.WeightMatrix;
import dev.compress.quantization.grid.MinMaxGrid;
import dev.compress.quantization.grid.QuantizedMatrix;
import dev.compress.training.quant.FakeQuantizeOp;

/**
 * The weight grid of one layer during QAT: scales and zero points {@code (out, groups)} in the
 * {@code out x in} view, and their blocked tensors in the weight's stored layout as the {@link
 * FakeQuantizeOp} node reads them: {@code [in/g, out]} for a {@code [in, out]} MatMul weight
 * (blocks along axis 0), {@code [out, in/g]} for a {@code [out, in]} Gemm weight (axis 1).
 *
 * @param layer the layer
 * @param bits 4 or 8
 * @param group input features per scale
 * @param symmetric symmetric grid (zero point {@code 2^(bits-1)} everywhere)
 * @param scales {@code (out, groups)}
 * @param zeros {@code (out, groups)}, unsigned codes
 */
record QatGrid(
    LinearLayer layer, int bits, int group, boolean symmetric, float[] scales, int[] zeros) {

  int out() {
    return (int) layer.outFeatures();
  }

  int in() {
    return (int) layer.inFeatures();
  }

  int groups() {
    return in() / group;
  }

  int maxq() {
    return MinMaxGrid.maxq(bits);
  }

  /** The input-feature axis of the stored weight: the FakeQuantize node's {@code axis}. */
  int axis() {
    return layer.layout() == WeightLayout.IN_OUT ? 0 : 1;
  }

  /** The blocked shape of the scale in the weight's stored layout. */
  long[] blockedShape() {
    return axis() == 0 ? new long[] {groups(), out()} : new long[] {out(), groups()};
  }

  private int blockedIndex(int o, int g) {
    return axis() == 0 ? g * out() + o : o * groups() + g;
  }

  /** The scales as the node's blocked tensor. */
  Tensor scaleTensor(String name) {
    float[] v = new float[scales.length];
    for (int o = 0; o < out(); o++) {
      for (int g = 0; g < groups(); g++) {
        v[blockedIndex(o, g)] = scales[o * groups() + g];
      }
    }
    return Tensor.ofFloats(name, blockedShape(), v);
  }

  /** The zero points as the node's blocked float tensor. */
  Tensor zeroTensor(String name) {
    float[] v = new float[zeros.length];
    for (int o = 0; o < out(); o++) {
      for (int g = 0; g < groups(); g++) {
        v[blockedIndex(o, g)] = zeros[o * groups() + g];
      }
    }
    return Tensor.ofFloats(name, blockedShape(), v);
  }

  /**
   * This grid with each scale multiplied by its (trained) ratio, a blocked tensor; in float32 as
   * the training graph's {@code Mul} computes it.
   */
  QatGrid withRatios(Tensor blocked) {
    float[] b = blocked.toFloatArray();
    float[] s = new float[scales.length];
    for (int o = 0; o < out(); o++) {
      for (int g = 0; g < groups(); g++) {
        s[o * groups() + g] = scales[o * groups() + g] * b[blockedIndex(o, g)];
      }
    }
    return new QatGrid(layer, bits, group, symmetric, s, zeros);
  }

  /**
   * The (trained) stored weight on this grid, as the fake-quant forward computes its codes ({@link
   * FakeQuantizeOp#code}).
   *
   * @throws IllegalArgumentException on a non-finite weight or a scale that is not positive
   */
  QuantizedMatrix quantize(Tensor weight) {
    float[] w = WeightMatrix.outByIn(weight, layer.layout(), out(), in());
    byte[] codes = new byte[w.length];
    int maxq = maxq();
    for (int o = 0; o < out(); o++) {
      for (int g = 0; g < groups(); g++) {
        float s = scales[o * groups() + g];
        if (!(s > 0) || !Float.isFinite(s)) {
          throw new IllegalArgumentException(
              "scale of row " + o + ", group " + g + " is " + s + " after training");
        }
        int z = zeros[o * groups() + g];
        for (int i = g * group; i < (g + 1) * group; i++) {
          float x = w[o * in() + i];
          if (!Float.isFinite(x)) {
            throw QuantizedMatrix.nonFinite(o, i, x);
          }
          codes[o * in() + i] = (byte) FakeQuantizeOp.code(x, s, z, 0, maxq);
        }
      }
    }
    return QuantizedMatrix.of(out(), in(), bits, group, symmetric, codes, scales, zeros);
  }
}
