package dev.compress.maven;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pipeline.PassRegistry;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Turns inline POM configuration into the same tree a pipeline YAML parses to, so the pipeline's
 * own strict binder ({@code PipelineSpec.fromData}) checks it and reports problems by key path.
 *
 * <p>XML has only text, so the conversion is guided by the record the block binds to (a pass's
 * config record, found by its {@code <type>} through the registry; {@code CalibrationSpec}; {@code
 * EvaluateSpec}): a component of type {@code int} becomes a number, {@code boolean} a boolean, a
 * {@code List} an array (child elements of any name, or a comma-separated text), a {@code Map} a
 * mapping (child element name to value), a nested record a mapping. Fields added to those records
 * later are converted the same way without a change here. Elements that match no component are kept
 * (with numbers and booleans recognized), so the binder reports them as unknown keys with its "did
 * you mean" suggestion. Text that does not parse as the component's type is kept as text, so the
 * binder reports the value found.
 */
final class PomTree {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");
  private static final Pattern DECIMAL =
      Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");

  private PomTree() {}

  /** A block bound to record {@code type} (e.g. {@code <evaluate>} to {@code EvaluateSpec}). */
  static JsonNode record(PomElement e, Class<? extends Record> type) {
    return convert(e, type);
  }

  /**
   * The {@code <passes>} list: each child element (conventionally {@code <pass>}) is one pass,
   * converted by the config record of its {@code <type>}.
   */
  static ArrayNode passes(PomElement passes, PassRegistry registry) {
    ArrayNode out = F.arrayNode();
    for (PomElement p : passes.children()) {
      PomElement t = p.child("type");
      Optional<PassProvider<?>> provider =
          t == null || t.value() == null ? Optional.empty() : registry.find(t.value());
      if (provider.isPresent() && provider.get().configType().isRecord()) {
        ObjectNode n = (ObjectNode) convert(p, provider.get().configType());
        out.add(n);
      } else {
        out.add(infer(p, true));
      }
    }
    return out;
  }

  /** Converts {@code e} as a value of {@code type}. */
  static JsonNode convert(PomElement e, Type type) {
    Class<?> raw = raw(type);
    if (raw == Optional.class) {
      return convert(e, arg(type, 0));
    }
    if (raw == List.class || raw == Collection.class) {
      Type el = arg(type, 0);
      ArrayNode a = F.arrayNode();
      if (!e.children().isEmpty()) {
        for (PomElement c : e.children()) {
          a.add(convert(c, el));
        }
      } else if (e.value() != null && !e.value().isEmpty()) {
        for (String part : e.value().split(",")) {
          a.add(convert(PomElement.leaf(e.name(), part), el));
        }
      }
      return a;
    }
    if (raw == Map.class) {
      if (e.children().isEmpty() && e.value() != null && !e.value().isEmpty()) {
        return F.textNode(e.value()); // the binder says "must be a mapping, found '...'"
      }
      ObjectNode o = F.objectNode();
      for (PomElement c : e.children()) {
        o.set(c.name(), convert(c, arg(type, 1)));
      }
      return o;
    }
    if (raw.isRecord()) {
      if (e.children().isEmpty() && e.value() != null && !e.value().isEmpty()) {
        return F.textNode(e.value());
      }
      ObjectNode o = F.objectNode();
      for (PomElement c : e.children()) {
        Type t = componentType(raw, c.name());
        o.set(c.name(), t == null ? infer(c, false) : convert(c, t));
      }
      return o;
    }
    if (!e.children().isEmpty()) {
      return infer(e, false); // a mapping where a scalar belongs: the binder names it
    }
    String v = e.value();
    if (v == null) {
      return F.nullNode();
    }
    if (raw == int.class
        || raw == Integer.class
        || raw == long.class
        || raw == Long.class
        || raw == short.class
        || raw == Short.class) {
      return INTEGER.matcher(v).matches() ? integer(v) : F.textNode(v);
    }
    if (raw == double.class || raw == Double.class || raw == float.class || raw == Float.class) {
      return DECIMAL.matcher(v).matches() ? decimal(v) : F.textNode(v);
    }
    if (raw == boolean.class || raw == Boolean.class) {
      return v.equals("true") || v.equals("false") ? F.booleanNode(v.equals("true")) : textOf(v);
    }
    if (raw == Object.class) {
      return scalar(v);
    }
    return F.textNode(v); // String, Path, enums
  }

  /** Without a type: children become a mapping, or a list when {@code list} or names repeat. */
  static JsonNode infer(PomElement e, boolean topLevelPass) {
    if (e.children().isEmpty()) {
      return e.value() == null ? F.nullNode() : scalar(e.value());
    }
    boolean repeated =
        !topLevelPass
            && e.children().size() > 1
            && e.children().stream().allMatch(c -> c.name().equals(e.children().get(0).name()));
    if (repeated) {
      ArrayNode a = F.arrayNode();
      e.children().forEach(c -> a.add(infer(c, false)));
      return a;
    }
    ObjectNode o = F.objectNode();
    for (PomElement c : e.children()) {
      o.set(c.name(), infer(c, false));
    }
    return o;
  }

  private static JsonNode textOf(String v) {
    return F.textNode(v);
  }

  /** Text as the YAML reader would take it: integers, decimals, booleans, else a string. */
  static JsonNode scalar(String v) {
    if (INTEGER.matcher(v).matches()) {
      return integer(v);
    }
    if (DECIMAL.matcher(v).matches()) {
      return decimal(v);
    }
    if (v.equals("true") || v.equals("false")) {
      return F.booleanNode(v.equals("true"));
    }
    return F.textNode(v);
  }

  private static JsonNode integer(String v) {
    BigInteger b = new BigInteger(v.startsWith("+") ? v.substring(1) : v);
    if (b.bitLength() < 32) {
      return F.numberNode(b.intValue());
    }
    if (b.bitLength() < 64) {
      return F.numberNode(b.longValue());
    }
    return F.numberNode(b);
  }

  private static JsonNode decimal(String v) {
    return F.numberNode(new BigDecimal(v.startsWith("+") ? v.substring(1) : v).doubleValue());
  }

  /** The generic type of the record component the key {@code name} binds to, or null. */
  private static Type componentType(Class<?> record, String name) {
    for (RecordComponent c : record.getRecordComponents()) {
      if (c.getType() == LayerSelection.class) {
        if (name.equals("targets") || name.equals("ignore")) {
          return STRING_LIST;
        }
      } else if (c.getName().equals(name)) {
        return c.getGenericType();
      }
    }
    return null;
  }

  private static Class<?> raw(Type t) {
    if (t instanceof Class<?> c) {
      return c;
    }
    if (t instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    return Object.class;
  }

  private static Type arg(Type t, int i) {
    return t instanceof ParameterizedType p ? p.getActualTypeArguments()[i] : Object.class;
  }

  private static final Type STRING_LIST = StringList.class.getGenericInterfaces()[0];

  /** Carries the type {@code List<String>} for {@link #STRING_LIST}. */
  private interface StringList extends List<String> {}
}
