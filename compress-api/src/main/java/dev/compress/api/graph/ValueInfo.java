package dev.compress.api.graph;

import dev.compress.api.tensor.DataType;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A named value's declared type: a graph input, output or intermediate ({@code value_info}).
 *
 * <p>Tensor types are modelled (element type and shape, each dimension a number or a symbolic
 * name); anything else (sequences, maps, optionals, denotations) is kept in {@code preservedType}.
 *
 * @param name value name
 * @param elemTypeCode ONNX element type code, 0 when not a tensor type or unknown
 * @param shape the dimensions, or null when the rank is unknown (or not a tensor type)
 * @param hasTensorType whether the type is a tensor type
 * @param docString documentation
 * @param metadata metadata properties
 * @param preservedType raw fields of the type not modelled here
 * @param preserved raw fields of the value info not modelled here
 */
public record ValueInfo(
    String name,
    int elemTypeCode,
    List<Dim> shape,
    boolean hasTensorType,
    String docString,
    Map<String, String> metadata,
    PreservedFields preservedType,
    PreservedFields preserved) {

  /**
   * One dimension: a fixed size, a symbolic name, or unknown (both absent).
   *
   * @param value the size, or -1 when not fixed
   * @param param the symbolic name, or empty
   * @param preserved raw fields of the dimension not modelled (denotation)
   */
  public record Dim(long value, String param, PreservedFields preserved) {
    /** Normalizes nulls. */
    public Dim {
      param = param == null ? "" : param;
      preserved = preserved == null ? new PreservedFields() : preserved;
    }

    /** A fixed dimension. */
    public static Dim of(long value) {
      return new Dim(value, "", new PreservedFields());
    }

    /** A symbolic dimension. */
    public static Dim of(String param) {
      return new Dim(-1, param, new PreservedFields());
    }

    @Override
    public String toString() {
      return value >= 0 ? Long.toString(value) : param.isEmpty() ? "?" : param;
    }
  }

  /** Normalizes nulls. */
  public ValueInfo {
    docString = docString == null ? "" : docString;
    metadata =
        metadata == null
            ? Map.of()
            : Collections.unmodifiableMap(new LinkedHashMap<>(metadata)); // keeps file order
    preservedType = preservedType == null ? new PreservedFields() : preservedType;
    preserved = preserved == null ? new PreservedFields() : preserved;
    shape = shape == null ? null : List.copyOf(shape);
  }

  /** A tensor value of the given element type and shape. */
  public static ValueInfo tensor(String name, DataType type, List<Dim> shape) {
    return new ValueInfo(name, type.onnxCode(), shape, true, "", Map.of(), null, null);
  }

  /** The element type, if it is a tensor of a known type. */
  public Optional<DataType> elemType() {
    return hasTensorType ? DataType.fromOnnx(elemTypeCode) : Optional.empty();
  }

  /** A short description like {@code FLOAT[batch, seq, 384]}. */
  public String typeString() {
    if (!hasTensorType) {
      return "<non-tensor>";
    }
    String t = elemType().map(Enum::name).orElse("type#" + elemTypeCode);
    return shape == null ? t + "[?]" : t + shape;
  }
}
