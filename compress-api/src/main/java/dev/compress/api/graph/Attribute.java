package dev.compress.api.graph;

import dev.compress.api.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * A node attribute with ONNX semantics. The value's Java type follows {@link Type}: {@code Float},
 * {@code Long}, {@code byte[]} (STRING), {@link Tensor}, {@link Graph}, or a {@code List} of those
 * for the plural types. Sparse tensors and type protos are not modelled; their attributes are kept
 * as {@link PreservedFields}.
 *
 * @param name attribute name
 * @param type the attribute type
 * @param value the value, typed as described above (null for a reference-only or preserved one)
 * @param refAttrName name of the function attribute this one refers to, or empty
 * @param docString documentation, or empty
 * @param preserved fields not modelled (sparse tensors, type protos, future fields)
 */
public record Attribute(
    String name,
    Type type,
    Object value,
    String refAttrName,
    String docString,
    PreservedFields preserved) {

  /** ONNX {@code AttributeProto.AttributeType} with its codes. */
  public enum Type {
    UNDEFINED(0),
    FLOAT(1),
    INT(2),
    STRING(3),
    TENSOR(4),
    GRAPH(5),
    FLOATS(6),
    INTS(7),
    STRINGS(8),
    TENSORS(9),
    GRAPHS(10),
    SPARSE_TENSOR(11),
    SPARSE_TENSORS(12),
    TYPE_PROTO(13),
    TYPE_PROTOS(14);

    private final int code;

    Type(int code) {
      this.code = code;
    }

    public int code() {
      return code;
    }

    /** The type with this code, or UNDEFINED. */
    public static Type fromCode(int code) {
      for (Type t : values()) {
        if (t.code == code) {
          return t;
        }
      }
      return UNDEFINED;
    }
  }

  /** Normalizes nulls. */
  public Attribute {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    refAttrName = refAttrName == null ? "" : refAttrName;
    docString = docString == null ? "" : docString;
    preserved = preserved == null ? new PreservedFields() : preserved;
  }

  public static Attribute of(String name, float v) {
    return new Attribute(name, Type.FLOAT, v, "", "", null);
  }

  public static Attribute of(String name, long v) {
    return new Attribute(name, Type.INT, v, "", "", null);
  }

  public static Attribute of(String name, String v) {
    return new Attribute(name, Type.STRING, v.getBytes(StandardCharsets.UTF_8), "", "", null);
  }

  public static Attribute of(String name, Tensor v) {
    return new Attribute(name, Type.TENSOR, v, "", "", null);
  }

  public static Attribute of(String name, Graph v) {
    return new Attribute(name, Type.GRAPH, v, "", "", null);
  }

  public static Attribute ofInts(String name, long... v) {
    return new Attribute(
        name, Type.INTS, java.util.Arrays.stream(v).boxed().toList(), "", "", null);
  }

  public static Attribute ofFloats(String name, float... v) {
    Float[] boxed = new Float[v.length];
    for (int i = 0; i < v.length; i++) {
      boxed[i] = v[i];
    }
    return new Attribute(name, Type.FLOATS, List.of(boxed), "", "", null);
  }

  /** The FLOAT value. */
  public float asFloat() {
    return (Float) checked(Type.FLOAT);
  }

  /** The INT value. */
  public long asLong() {
    return (Long) checked(Type.INT);
  }

  /** The STRING value decoded as UTF-8. */
  public String asString() {
    return new String((byte[]) checked(Type.STRING), StandardCharsets.UTF_8);
  }

  /** The TENSOR value. */
  public Tensor asTensor() {
    return (Tensor) checked(Type.TENSOR);
  }

  /** The GRAPH value. */
  public Graph asGraph() {
    return (Graph) checked(Type.GRAPH);
  }

  /** The INTS value. */
  @SuppressWarnings("unchecked")
  public long[] asLongs() {
    return ((List<Long>) checked(Type.INTS)).stream().mapToLong(Long::longValue).toArray();
  }

  /** The FLOATS value. */
  @SuppressWarnings("unchecked")
  public float[] asFloats() {
    List<Float> l = (List<Float>) checked(Type.FLOATS);
    float[] out = new float[l.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = l.get(i);
    }
    return out;
  }

  /** The STRINGS value decoded as UTF-8. */
  @SuppressWarnings("unchecked")
  public List<String> asStrings() {
    return ((List<byte[]>) checked(Type.STRINGS))
        .stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
  }

  /** The GRAPHS value. */
  @SuppressWarnings("unchecked")
  public List<Graph> asGraphs() {
    return (List<Graph>) checked(Type.GRAPHS);
  }

  /** The TENSORS value. */
  @SuppressWarnings("unchecked")
  public List<Tensor> asTensors() {
    return (List<Tensor>) checked(Type.TENSORS);
  }

  private Object checked(Type expected) {
    if (type != expected) {
      throw new IllegalStateException("attribute '" + name + "' is " + type + ", not " + expected);
    }
    return value;
  }
}
