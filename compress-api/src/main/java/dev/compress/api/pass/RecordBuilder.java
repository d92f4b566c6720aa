package dev.compress.api.pass;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Objects;

/**
 * The base of the config builders ({@code GptqConfig.builder().bits(4).groupSize(128).build()}):
 * holds a value for each component of record {@code R}, starting from a complete record (the
 * config's {@code defaults()}), and builds through the canonical constructor. Validation is the
 * constructor's, so {@link #build()} fails with the messages a pipeline YAML gets for the same
 * keys, without the key-path prefix ({@code bits must be 4 or 8, found 3}, where the YAML says
 * {@code passes[0].bits must be 4 or 8, found 3}).
 *
 * <p>A subclass adds one typed setter per component, each a call of {@link #set}. Not thread-safe;
 * a builder can build several times.
 *
 * @param <R> the record built
 * @param <B> the concrete builder, returned by the setters
 */
public abstract class RecordBuilder<R extends Record, B extends RecordBuilder<R, B>> {
  private final Class<R> type;
  private final RecordComponent[] components;
  private final Object[] values;

  /** A builder holding the values of {@code start}. */
  @SuppressWarnings("unchecked")
  protected RecordBuilder(R start) {
    Objects.requireNonNull(start, "start");
    this.type = (Class<R>) start.getClass();
    this.components = type.getRecordComponents();
    this.values = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      try {
        var m = components[i].getAccessor();
        m.trySetAccessible();
        values[i] = m.invoke(start);
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new IllegalStateException("cannot read " + components[i], e);
      }
    }
  }

  /**
   * Sets component {@code name} to {@code value} (checked when {@link #build()} runs).
   *
   * @throws IllegalArgumentException when the record has no such component, or the value is not of
   *     its type (a mistake in the builder, not in the user's values)
   */
  @SuppressWarnings("unchecked")
  protected final B set(String name, Object value) {
    int i = indexOf(name);
    Class<?> t = box(components[i].getType());
    if (value == null ? components[i].getType().isPrimitive() : !t.isInstance(value)) {
      throw new IllegalArgumentException(
          type.getSimpleName() + "." + name + " takes " + t.getSimpleName() + ", given " + value);
    }
    values[i] = value;
    return (B) this;
  }

  /** The value component {@code name} holds now. */
  protected final Object get(String name) {
    return values[indexOf(name)];
  }

  /** The index of the first component of type {@code t}, or -1. */
  final int indexOfType(Class<?> t) {
    for (int i = 0; i < components.length; i++) {
      if (components[i].getType() == t) {
        return i;
      }
    }
    return -1;
  }

  final String componentName(int i) {
    return components[i].getName();
  }

  /**
   * The record, validated by its constructor.
   *
   * @throws InvalidConfigException listing every bad value, each naming its key
   */
  public R build() {
    Class<?>[] types =
        Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
    Constructor<R> ctor;
    try {
      ctor = type.getDeclaredConstructor(types);
      ctor.trySetAccessible();
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(type.getName() + " has no canonical constructor", e);
    }
    try {
      return ctor.newInstance(values.clone());
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(type.getName() + " constructor failed", e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot construct " + type.getName(), e);
    }
  }

  private int indexOf(String name) {
    for (int i = 0; i < components.length; i++) {
      if (components[i].getName().equals(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException(type.getSimpleName() + " has no component " + name);
  }

  private static Class<?> box(Class<?> c) {
    if (!c.isPrimitive()) {
      return c;
    }
    return switch (c.getName()) {
      case "int" -> Integer.class;
      case "long" -> Long.class;
      case "double" -> Double.class;
      case "float" -> Float.class;
      case "boolean" -> Boolean.class;
      case "short" -> Short.class;
      case "byte" -> Byte.class;
      default -> Character.class;
    };
  }
}
