package dev.compress.api.io.hf;

import dev.compress.api.graph.Attribute;
import dev.compress.api.graph.GraphBuilder;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The decoder graphs' view of the api's {@link GraphBuilder}: explicit node names (the module
 * paths), constants in the compute dtype, the lowest finite value of that dtype.
 */
final class GraphEmitter {
  final GraphBuilder builder;

  /** The element type activations are computed in. */
  final DataType dtype;

  GraphEmitter(GraphBuilder builder, DataType dtype) {
    this.builder = builder;
    this.dtype = dtype;
  }

  /** A one-output node named {@code name}; returns its output. */
  String op(String name, String op, List<String> inputs, Attribute... attrs) {
    return builder.op(op, name, inputs, attrs);
  }

  /** A node with {@code outputs} outputs. */
  String[] ops(String name, String op, List<String> inputs, int outputs, Attribute... attrs) {
    return builder.node("", op, name, inputs, outputs, attrs).toArray(String[]::new);
  }

  /** Adds {@code t} as an initializer; returns its name. */
  String init(Tensor t) {
    return builder.initializer(t);
  }

  /** A 1-D int64 initializer. */
  String ints(String name, long... v) {
    return init(Tensor.ofLongs(name, new long[] {v.length}, v));
  }

  /** A scalar int64 initializer. */
  String scalarInt(String name, long v) {
    return init(Tensor.ofLongs(name, new long[0], v));
  }

  /** A scalar initializer of the compute type. */
  String scalar(String name, float v) {
    return init(ofType(name, new long[0], new float[] {v}, dtype));
  }

  /** Values rounded to {@code type} (f32, f16 or bf16, round to nearest even). */
  static Tensor ofType(String name, long[] shape, float[] v, DataType type) {
    if (type == DataType.FLOAT) {
      return Tensor.ofFloats(name, shape, v);
    }
    ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putShort(type == DataType.FLOAT16 ? Float.floatToFloat16(f) : toBfloat16(f));
    }
    return Tensor.of(name, type, shape, b.flip());
  }

  /** f32 to bf16, round to nearest even (NaN kept quiet). */
  static short toBfloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** The most negative finite value of the compute type, used for masked attention scores. */
  float lowest() {
    return switch (dtype) {
      case FLOAT16 -> -65504f;
      case BFLOAT16 -> Float.intBitsToFloat(0xff7f0000);
      default -> -Float.MAX_VALUE;
    };
  }
}
