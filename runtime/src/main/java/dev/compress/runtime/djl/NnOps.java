package dev.compress.runtime.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.compress.api.UnsupportedModelException;
import java.util.Arrays;

/**
 * Neural-network operators: convolution and pooling (1 to 3 spatial dimensions), batch and layer
 * normalization, GELU in its ONNX and com.microsoft forms, LeakyReLU.
 */
final class NnOps {
  private NnOps() {}

  static void register() {
    OpRegistry.register("Conv", NnOps::conv);
    OpRegistry.register("MaxPool", n -> pool(n, true));
    OpRegistry.register("AveragePool", n -> pool(n, false));
    OpRegistry.register("GlobalAveragePool", n -> globalPool(n, false));
    OpRegistry.register("GlobalMaxPool", n -> globalPool(n, true));
    OpRegistry.register("BatchNormalization", NnOps::batchNorm);
    OpRegistry.register("LayerNormalization", NnOps::layerNorm);
    OpRegistry.register("SimplifiedLayerNormalization", NnOps::rmsNorm);
    OpRegistry.register("RMSNormalization", NnOps::rmsNorm);
    OpRegistry.register("com.microsoft::SkipLayerNormalization", n -> skipNorm(n, false));
    OpRegistry.register("com.microsoft::SkipSimplifiedLayerNormalization", n -> skipNorm(n, true));
    OpRegistry.register("Gelu", NnOps::onnxGelu);
    OpRegistry.register("com.microsoft::Gelu", n -> MathOps.single(n, (in, m) -> geluErf(in[0])));
    OpRegistry.register(
        "com.microsoft::BiasGelu", n -> MathOps.single(n, (in, m) -> geluErf(in[0].add(in[1]))));
    OpRegistry.register(
        "com.microsoft::FastGelu",
        n ->
            MathOps.single(
                n, (in, m) -> geluTanh(in.length > 1 && in[1] != null ? in[0].add(in[1]) : in[0])));
    OpRegistry.register("LeakyRelu", NnOps::leakyRelu);
  }

  // ---------------------------------------------------------------- activations

  static NDArray geluErf(NDArray x) {
    return x.getNDArrayInternal().gelu(); // PyTorch's default: x * Phi(x), the erf form
  }

  /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
  static NDArray geluTanh(NDArray x) {
    NDArray inner = x.add(x.pow(3).mul(0.044715f)).mul((float) Math.sqrt(2 / Math.PI));
    return x.mul(0.5f).mul(inner.tanh().add(1f));
  }

  private static Kernel onnxGelu(OpNode n) throws UnsupportedModelException {
    String approx = n.stringAttr("approximate", "none");
    return switch (approx) {
      case "none" -> MathOps.single(n, (in, m) -> geluErf(in[0]));
      case "tanh" -> MathOps.single(n, (in, m) -> geluTanh(in[0]));
      default -> throw n.unsupported("approximate='" + approx + "'");
    };
  }

  private static Kernel leakyRelu(OpNode n) throws UnsupportedModelException {
    float alpha = n.floatAttr("alpha", 0.01f);
    return MathOps.single(n, (in, m) -> in[0].getNDArrayInternal().leakyRelu(alpha));
  }

  // ---------------------------------------------------------------- convolution and pooling

  /** Window attributes shared by Conv and the pools, resolved against an input at run time. */
  private record Window(
      String autoPad, long[] kernel, long[] strides, long[] pads, long[] dilations) {

    static Window of(OpNode n) throws UnsupportedModelException {
      String autoPad = n.stringAttr("auto_pad", "NOTSET");
      if (!Arrays.asList("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER").contains(autoPad)) {
        throw n.unsupported("auto_pad='" + autoPad + "'");
      }
      return new Window(
          autoPad,
          n.intsAttr("kernel_shape", null),
          n.intsAttr("strides", null),
          n.intsAttr("pads", null),
          n.intsAttr("dilations", null));
    }

    /**
     * Fails naming the attribute when {@code kernel_shape}, {@code strides} or {@code dilations}
     * does not have one entry per spatial axis, or {@code pads} two.
     */
    void checkLengths(OpNode n, int sp) throws UnsupportedModelException {
      String[] names = {"kernel_shape", "strides", "dilations", "pads"};
      long[][] values = {kernel, strides, dilations, pads};
      for (int i = 0; i < names.length; i++) {
        int want = i == 3 ? 2 * sp : sp;
        if (values[i] != null && values[i].length != want) {
          throw n.unsupported(
              names[i]
                  + " "
                  + Arrays.toString(values[i])
                  + " needs "
                  + want
                  + " values for an input with "
                  + sp
                  + " spatial dimensions");
        }
      }
    }

    /** Pads as ONNX orders them: all begins, then all ends. */
    long[] resolvePads(long[] spatialIn, long[] k, long[] s, long[] d) {
      int sp = spatialIn.length;
      long[] p = new long[2 * sp];
      switch (autoPad) {
        case "NOTSET" -> {
          if (pads != null) {
            System.arraycopy(pads, 0, p, 0, 2 * sp);
          }
        }
        case "VALID" -> {}
        default -> {
          for (int i = 0; i < sp; i++) {
            long effective = (k[i] - 1) * d[i] + 1;
            long out = (spatialIn[i] + s[i] - 1) / s[i];
            long total = Math.max(0, (out - 1) * s[i] + effective - spatialIn[i]);
            long small = total / 2;
            boolean upper = autoPad.equals("SAME_UPPER");
            p[i] = upper ? small : total - small;
            p[i + sp] = upper ? total - small : small;
          }
        }
      }
      return p;
    }
  }

  private static long[] orOnes(long[] v, int n) {
    if (v != null) {
      return v;
    }
    long[] ones = new long[n];
    Arrays.fill(ones, 1);
    return ones;
  }

  private static int spatialRank(OpNode n, NDArray x) throws UnsupportedModelException {
    int sp = x.getShape().dimension() - 2;
    if (sp < 1 || sp > 3) {
      throw n.unsupported(
          "input of shape "
              + x.getShape()
              + " has "
              + sp
              + " spatial dimensions; 1 to 3 are supported");
    }
    return sp;
  }

  /** Whether begin == end for every axis and every pad fits PyTorch's limit (at most k/2). */
  private static boolean symmetric(long[] p, long[] k) {
    int sp = p.length / 2;
    for (int i = 0; i < sp; i++) {
      if (p[i] != p[i + sp] || (k != null && p[i] > k[i] / 2)) {
        return false;
      }
    }
    return true;
  }

  /** PyTorch's pad list: last axis first, (begin, end) per axis. */
  private static Shape torchPadShape(long[] p) {
    int sp = p.length / 2;
    long[] t = new long[2 * sp];
    for (int i = 0; i < sp; i++) {
      t[2 * i] = p[sp - 1 - i];
      t[2 * i + 1] = p[2 * sp - 1 - i];
    }
    return new Shape(t);
  }

  private static Kernel conv(OpNode n) throws UnsupportedModelException {
    Window w = Window.of(n);
    long group = n.intAttr("group", 1);
    return MathOps.single(
        n,
        (in, m) -> {
          NDArray x = in[0]; // (N, C, spatial...)
          NDArray weight = in[1]; // (M, C/group, k...)
          NDArray bias = in.length > 2 ? in[2] : null; // (M)
          int sp = spatialRank(n, x);
          long[] xd = Nd.dims(x);
          long[] wd = Nd.dims(weight);
          long[] k = w.kernel() != null ? w.kernel() : Arrays.copyOfRange(wd, 2, wd.length);
          long[] s = orOnes(w.strides(), sp);
          long[] d = orOnes(w.dilations(), sp);
          w.checkLengths(n, sp);
          if (!Arrays.equals(k, 0, k.length, wd, 2, wd.length)) {
            throw n.unsupported(
                "kernel_shape "
                    + Arrays.toString(k)
                    + " does not match the weight's spatial shape "
                    + Arrays.toString(Arrays.copyOfRange(wd, 2, wd.length)));
          }
          if (group < 1 || xd[1] != wd[1] * group || wd[0] % group != 0) {
            throw n.unsupported(
                "group="
                    + group
                    + " does not fit input channels "
                    + xd[1]
                    + " and weight "
                    + Arrays.toString(wd));
          }
          long[] p = w.resolvePads(Arrays.copyOfRange(xd, 2, xd.length), k, s, d);
          long[] torchPads = Arrays.copyOf(p, sp);
          if (!symmetric(p, null)) {
            x = x.pad(torchPadShape(p), 0);
            torchPads = new long[sp];
          }
          if (bias == null) {
            bias = m.zeros(new Shape(wd[0]), x.getDataType(), x.getDevice());
          }
          return x.getNDArrayInternal()
              .convolution(
                  x, weight, bias, new Shape(s), new Shape(torchPads), new Shape(d), (int) group)
              .singletonOrThrow();
        });
  }

  private static Kernel pool(OpNode n, boolean max) throws UnsupportedModelException {
    Window w = Window.of(n);
    if (w.kernel() == null) {
      throw n.unsupported("kernel_shape is required");
    }
    if (w.dilations() != null && Arrays.stream(w.dilations()).anyMatch(v -> v != 1)) {
      throw n.unsupported("dilations other than 1 are not supported");
    }
    n.requireAtMostOutputs(1, "the Indices output of MaxPool is not supported");
    boolean ceil = n.intAttr("ceil_mode", 0) != 0;
    boolean includePad = n.intAttr("count_include_pad", 0) != 0;
    return MathOps.single(
        n,
        (in, m) -> {
          NDArray x = in[0];
          int sp = spatialRank(n, x);
          long[] xd = Nd.dims(x);
          long[] k = w.kernel();
          w.checkLengths(n, sp);
          long[] s = orOnes(w.strides(), sp);
          long[] p = w.resolvePads(Arrays.copyOfRange(xd, 2, xd.length), k, s, orOnes(null, sp));
          Shape kernel = new Shape(k);
          Shape stride = new Shape(s);
          boolean noPads = Arrays.stream(p).allMatch(v -> v == 0);
          if (noPads || (max && symmetric(p, k))) {
            Shape pad = new Shape(Arrays.copyOf(p, sp));
            return max
                ? x.getNDArrayInternal().maxPool(kernel, stride, pad, ceil)
                : x.getNDArrayInternal().avgPool(kernel, stride, pad, ceil, true);
          }
          // Pads PyTorch cannot express (asymmetric, over k/2), and every padded average (DJL's
          // avgPool ignores count_include_pad=0): pad explicitly, then pool without padding.
          Shape none = new Shape(new long[sp]);
          Shape torchPad = torchPadShape(p);
          if (max) {
            return x.pad(torchPad, Double.NEGATIVE_INFINITY)
                .getNDArrayInternal()
                .maxPool(kernel, stride, none, ceil);
          }
          NDArray sums =
              x.pad(torchPad, 0).getNDArrayInternal().avgPool(kernel, stride, none, ceil, true);
          if (includePad) {
            return sums;
          }
          // Average over the real elements only: divide by the fraction of each window inside x.
          NDArray inside =
              x.onesLike()
                  .pad(torchPad, 0)
                  .getNDArrayInternal()
                  .avgPool(kernel, stride, none, ceil, true);
          return sums.div(inside);
        });
  }

  private static Kernel globalPool(OpNode n, boolean max) throws UnsupportedModelException {
    return MathOps.single(
        n,
        (in, m) -> {
          NDArray x = in[0];
          long[] d = Nd.dims(x); // (N, C, spatial...)
          NDArray flat = x.reshape(d[0], d[1], -1);
          NDArray r = max ? flat.max(new int[] {2}, true) : flat.mean(new int[] {2}, true);
          long[] out = new long[d.length];
          Arrays.fill(out, 1);
          out[0] = d[0];
          out[1] = d[1];
          return r.reshape(new Shape(out));
        });
  }

  // ---------------------------------------------------------------- normalization

  private static Kernel batchNorm(OpNode n) throws UnsupportedModelException {
    if (n.intAttr("training_mode", 0) != 0) {
      throw n.unsupported("training_mode=1 is not supported (inference only)");
    }
    n.requireAtMostOutputs(1, "running statistics are training outputs");
    float eps = n.floatAttr("epsilon", 1e-5f);
    return MathOps.single(
        n,
        (in, m) -> {
          NDArray x = in[0]; // (N, C, ...)
          long[] pd = new long[Math.max(1, x.getShape().dimension() - 1)];
          Arrays.fill(pd, 1);
          pd[0] = -1; // parameters (C) seen as (C, 1, ...) to broadcast over the spatial axes
          Shape ps = new Shape(pd);
          NDArray scale = in[1].reshape(ps);
          NDArray bias = in[2].reshape(ps);
          NDArray mean = in[3].reshape(ps);
          NDArray var = in[4].reshape(ps);
          NDArray factor = scale.div(var.add(eps).sqrt());
          return x.sub(mean).mul(factor).add(bias);
        });
  }

  private static Kernel layerNorm(OpNode n) throws UnsupportedModelException {
    long axisAttr = n.intAttr("axis", -1);
    float eps = n.floatAttr("epsilon", 1e-5f);
    n.requireAtMostOutputs(3, "LayerNormalization has three outputs");
    boolean stats = n.wantsOutput(1) || n.wantsOutput(2);
    return (in, m) -> {
      NDArray x = in[0];
      long[] d = Nd.dims(x);
      int axis = Nd.axis(axisAttr, d.length);
      Shape normalized = new Shape(Arrays.copyOfRange(d, axis, d.length));
      NDArray scale = in[1];
      NDArray bias = in.length > 2 ? in[2] : null;
      if (!stats
          && scale.getShape().size() == normalized.size()
          && (bias == null || bias.getShape().size() == normalized.size())) {
        // One fused PyTorch kernel.
        NDArray g = scale.reshape(normalized);
        NDArray b =
            bias != null
                ? bias.reshape(normalized)
                : m.zeros(normalized, x.getDataType(), x.getDevice());
        return new NDArray[] {
          x.getNDArrayInternal().layerNorm(x, normalized, g, b, eps).singletonOrThrow()
        };
      }
      // General form (broadcast scale/bias, or Mean/InvStdDev requested): ONNX's definition.
      NDArray mean = x;
      for (int a = d.length - 1; a >= axis; a--) {
        mean = mean.mean(new int[] {a}, true);
      }
      NDArray centered = x.sub(mean);
      NDArray var = centered.square();
      for (int a = d.length - 1; a >= axis; a--) {
        var = var.mean(new int[] {a}, true);
      }
      NDArray std = var.add(eps).sqrt();
      NDArray invStd = std.onesLike().div(std);
      NDArray y = centered.mul(invStd).mul(scale);
      if (bias != null) {
        y = y.add(bias);
      }
      return new NDArray[] {y, n.wantsOutput(1) ? mean : null, n.wantsOutput(2) ? invStd : null};
    };
  }

  /**
   * {@code SimplifiedLayerNormalization} (ONNX Runtime) and {@code RMSNormalization} (ONNX 23):
   * {@code x / sqrt(mean(x^2 over the axes from axis) + epsilon) * scale}.
   */
  private static Kernel rmsNorm(OpNode n) throws UnsupportedModelException {
    long axisAttr = n.intAttr("axis", -1);
    float eps = n.floatAttr("epsilon", 1e-5f);
    n.requireAtMostOutputs(1, "the inverse standard deviation is not computed");
    return (in, m) -> {
      NDArray x = in[0];
      int rank = Nd.dims(x).length;
      return new NDArray[] {x.mul(rms(x, Nd.axis(axisAttr, rank), rank, eps)).mul(in[1])};
    };
  }

  /** {@code 1 / sqrt(mean(x^2 over the axes from axis) + eps)}, keeping dimensions. */
  private static NDArray rms(NDArray x, int axis, int rank, float eps) {
    NDArray ms = x.square();
    for (int a = rank - 1; a >= axis; a--) {
      ms = ms.mean(new int[] {a}, true);
    }
    NDArray std = ms.add(eps).sqrt();
    return std.onesLike().div(std);
  }

  /**
   * ONNX Runtime's {@code SkipLayerNormalization} / {@code SkipSimplifiedLayerNormalization}:
   * {@code s = input + skip (+ bias)}, then layer (or RMS) normalization of {@code s} over the last
   * axis with {@code gamma} (and {@code beta}); output 3 is {@code s} itself.
   */
  private static Kernel skipNorm(OpNode n, boolean simplified) throws UnsupportedModelException {
    float eps = n.floatAttr("epsilon", 1e-12f);
    if (n.wantsOutput(1) || n.wantsOutput(2)) {
      throw n.unsupported("the mean and inverse standard deviation outputs are not computed");
    }
    int biasAt = simplified ? 3 : 4;
    return (in, m) -> {
      NDArray s = in[0].add(in[1]);
      if (in.length > biasAt && in[biasAt] != null) {
        s = s.add(in[biasAt]);
      }
      int rank = Nd.dims(s).length;
      NDArray y;
      if (simplified) {
        y = s.mul(rms(s, rank - 1, rank, eps)).mul(in[2]);
      } else {
        NDArray centered = s.sub(s.mean(new int[] {rank - 1}, true));
        y = centered.mul(rms(centered, rank - 1, rank, eps)).mul(in[2]);
        if (in.length > 3 && in[3] != null) {
          y = y.add(in[3]);
        }
      }
      return new NDArray[] {y, null, null, n.wantsOutput(3) ? s : null};
    };
  }
}
