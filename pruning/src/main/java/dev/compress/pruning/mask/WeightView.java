package dev.compress.pruning.mask;

import dev.compress.api.layers.LinearLayer;
import dev.compress.api.layers.LinearLayer.WeightLayout;

/**
 * The {@code (out, in)} view of a linear layer's stored weight (PyTorch's convention, see {@link
 * LinearLayer}): a MatMul weight stored {@code [in, out]} is transposed, a Gemm with {@code
 * transB=1} or a Conv weight is already {@code (out, in)}.
 */
public final class WeightView {
  private WeightView() {}

  /** The storage index of element {@code (o, i)} of the {@code (out, in)} view. */
  public static int stored(WeightLayout layout, int out, int in, int o, int i) {
    return layout == WeightLayout.OUT_IN ? o * in + i : i * out + o;
  }

  /** The {@code (out, in)} view of {@code stored} values. */
  public static float[] outByIn(float[] stored, LinearLayer l) {
    int out = (int) l.outFeatures();
    int in = (int) l.inFeatures();
    check(stored.length, l);
    if (l.layout() == WeightLayout.OUT_IN) {
      return stored.clone();
    }
    float[] m = new float[stored.length];
    for (int i = 0; i < in; i++) {
      for (int o = 0; o < out; o++) {
        m[o * in + i] = stored[i * out + o];
      }
    }
    return m;
  }

  /** Values in {@code (out, in)} order put back in the layer's storage order. */
  public static float[] toStored(float[] outByIn, LinearLayer l) {
    int out = (int) l.outFeatures();
    int in = (int) l.inFeatures();
    check(outByIn.length, l);
    if (l.layout() == WeightLayout.OUT_IN) {
      return outByIn.clone();
    }
    float[] s = new float[outByIn.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        s[i * out + o] = outByIn[o * in + i];
      }
    }
    return s;
  }

  /** A mask over the {@code (out, in)} view put in storage order. */
  public static boolean[] toStored(boolean[] outByIn, LinearLayer l) {
    int out = (int) l.outFeatures();
    int in = (int) l.inFeatures();
    check(outByIn.length, l);
    boolean[] s = new boolean[outByIn.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        s[stored(l.layout(), out, in, o, i)] = outByIn[o * in + i];
      }
    }
    return s;
  }

  private static void check(int length, LinearLayer l) {
    if (length != l.outFeatures() * l.inFeatures()) {
      throw new IllegalArgumentException(
          "layer '"
              + l.name()
              + "': "
              + length
              + " weights for "
              + l.outFeatures()
              + " x "
              + l.inFeatures());
    }
  }
}
