package dev.compress.api.graph;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Fields of a checkpoint message that the toolkit does not model (newer ONNX fields, training info,
 * functions, sparse initializers, ...). They are kept as their raw encoded bytes and written back
 * unchanged, so a read-write round trip loses nothing it did not understand.
 */
public final class PreservedFields {
  /**
   * One raw protobuf field.
   *
   * @param number the field number
   * @param wireType the protobuf wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32)
   * @param payload the field's value bytes, without tag (for wire type 2: without the length)
   */
  public record Field(int number, int wireType, ByteBuffer payload) {}

  private final List<Field> fields = new ArrayList<>();

  /** Adds a field (payload not copied). */
  public void add(int number, int wireType, ByteBuffer payload) {
    fields.add(new Field(number, wireType, payload.asReadOnlyBuffer()));
  }

  /** The fields in the order they were read. */
  public List<Field> fields() {
    return Collections.unmodifiableList(fields);
  }

  /** True when nothing is preserved. */
  public boolean isEmpty() {
    return fields.isEmpty();
  }

  /** Copies every field of {@code other} into this one. */
  public void addAll(PreservedFields other) {
    fields.addAll(other.fields);
  }
}
