package dev.compress.api.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Binds a YAML/JSON mapping onto a config record by record component name, and turns a record back
 * into a plain map. Strict: unknown keys and values of the wrong type are problems naming the full
 * key path and the value found; keys not given keep the value of a defaults instance.
 *
 * <p>A component of type {@link LayerSelection} is spelled as two keys, {@code targets} and {@code
 * ignore}, at the record's own level. Supported component types: {@code int}, {@code long}, {@code
 * double}, {@code float}, {@code boolean} (and their boxes), {@code String}, {@link Path}, enums
 * (matched case-insensitively, {@code -} and {@code _} alike), {@code List<T>}, {@code Map<String,
 * T>}, {@code Optional<T>} and nested records.
 */
final class RecordBinder {
  private static final Object FAILED = new Object();

  private RecordBinder() {}

  /**
   * Binds {@code node} onto {@code type}.
   *
   * @param type the record class
   * @param defaults values for keys not given (null: every key is required)
   * @param node a mapping
   * @param path key path of {@code node} ("" for the root)
   * @param required keys that must be given even though a default exists
   * @param ignored keys of {@code node} handled by the caller
   * @param problems receives every problem
   * @return the record, or null if any problem was found
   */
  static <R extends Record> R bind(
      Class<R> type,
      R defaults,
      JsonNode node,
      String path,
      Set<String> required,
      Set<String> ignored,
      List<String> problems) {
    int before = problems.size();
    if (node == null || !node.isObject()) {
      problems.add(at(path) + " must be a mapping, found " + describe(node));
      return null;
    }
    RecordComponent[] comps = type.getRecordComponents();
    Object[] values = new Object[comps.length];
    boolean[] given = new boolean[comps.length];
    int selection = -1;
    for (int i = 0; i < comps.length; i++) {
      if (comps[i].getType() == LayerSelection.class && selection < 0) {
        selection = i;
      }
      values[i] =
          defaults != null
              ? read(comps[i], defaults)
              : comps[i].getType() == Optional.class ? Optional.empty() : null;
    }
    List<String> known = keys(type);
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = e.getKey();
      if (ignored.contains(key)) {
        continue;
      }
      if (!known.contains(key)) {
        problems.add(unknownKey(join(path, key), key, known));
        continue;
      }
      if (selection >= 0 && (key.equals("targets") || key.equals("ignore"))) {
        continue; // bound below, together
      }
      int i = indexOf(comps, key);
      Object v = convert(comps[i].getGenericType(), e.getValue(), join(path, key), problems);
      if (v != FAILED) {
        values[i] = v;
        given[i] = true;
      }
    }
    boolean complete = true; // every component has a value: construction can run
    for (int i = 0; i < comps.length; i++) {
      boolean optional = comps[i].getType() == Optional.class;
      if (i != selection
          && (required.contains(comps[i].getName()) || (defaults == null && !given[i] && !optional))
          && node.get(comps[i].getName()) == null) {
        problems.add(join(path, comps[i].getName()) + " is required");
      }
      complete &= i == selection || values[i] != null;
    }
    if (selection >= 0) {
      LayerSelection dflt =
          values[selection] == null ? LayerSelection.ALL : (LayerSelection) values[selection];
      Object targets =
          node.has("targets")
              ? convert(STRING_LIST, node.get("targets"), join(path, "targets"), problems)
              : dflt.targets();
      Object ignore =
          node.has("ignore")
              ? convert(STRING_LIST, node.get("ignore"), join(path, "ignore"), problems)
              : dflt.ignore();
      // A value that failed to convert keeps its default, so the other one is still checked.
      List<String> t = targets == FAILED ? dflt.targets() : castList(targets);
      List<String> ig = ignore == FAILED ? dflt.ignore() : castList(ignore);
      LayerSelection sel =
          construct(path, problems, () -> new LayerSelection(t, ig), LayerSelection.class);
      values[selection] = sel == null ? dflt : sel;
    }
    if (!complete) {
      return null;
    }
    // Values that failed to convert kept their defaults: construct anyway, so range checks of the
    // other keys are reported in the same round.
    R r = construct(path, problems, () -> newRecord(type, values), type);
    return problems.size() > before ? null : r;
  }

  /** The keys a record accepts: component names, with a selection spelled targets/ignore. */
  static List<String> keys(Class<? extends Record> type) {
    List<String> keys = new ArrayList<>();
    for (RecordComponent c : type.getRecordComponents()) {
      if (c.getType() == LayerSelection.class) {
        keys.add("targets");
        keys.add("ignore");
      } else {
        keys.add(c.getName());
      }
    }
    return keys;
  }

  /** The record as a plain map (keys in component order), ready for YAML or JSON. */
  static Map<String, Object> toMap(Record r) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (RecordComponent c : r.getClass().getRecordComponents()) {
      Object v = read(c, r);
      if (v instanceof LayerSelection s) {
        out.put("targets", List.copyOf(s.targets()));
        out.put("ignore", List.copyOf(s.ignore()));
      } else {
        out.put(c.getName(), plain(v));
      }
    }
    return out;
  }

  /** A value as plain data: enums as lower-case hyphenated names, maps sorted, records as maps. */
  static Object plain(Object v) {
    return switch (v) {
      case null -> null;
      case Enum<?> e -> enumName(e);
      case Optional<?> o -> o.map(RecordBinder::plain).orElse(null);
      case Path p -> p.toString();
      case Record r -> toMap(r);
      case Collection<?> c -> c.stream().map(RecordBinder::plain).toList();
      case Map<?, ?> m -> {
        Map<String, Object> sorted = new TreeMap<>();
        m.forEach((k, x) -> sorted.put(String.valueOf(k), plain(x)));
        yield sorted;
      }
      case Number n -> n;
      case Boolean b -> b;
      case String s -> s;
      default -> v.toString();
    };
  }

  static String enumName(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  // ---- conversion ----

  private static final Type STRING_LIST =
      new ParameterizedType() {
        @Override
        public Type[] getActualTypeArguments() {
          return new Type[] {String.class};
        }

        @Override
        public Type getRawType() {
          return List.class;
        }

        @Override
        public Type getOwnerType() {
          return null;
        }
      };

  private static Object convert(Type type, JsonNode v, String key, List<String> problems) {
    Class<?> raw = rawType(type);
    if (raw == Optional.class) {
      if (v == null || v.isNull()) {
        return Optional.empty();
      }
      Object inner = convert(typeArg(type, 0), v, key, problems);
      return inner == FAILED ? FAILED : Optional.of(inner);
    }
    if (v == null || v.isNull()) {
      return fail(key, expected(type), v, problems);
    }
    if (raw == int.class || raw == Integer.class) {
      return v.isIntegralNumber() && v.canConvertToInt()
          ? (Object) v.intValue()
          : fail(key, "an integer", v, problems);
    }
    if (raw == long.class || raw == Long.class) {
      return v.isIntegralNumber() && v.canConvertToLong()
          ? (Object) v.longValue()
          : fail(key, "an integer", v, problems);
    }
    if (raw == double.class || raw == Double.class) {
      return v.isNumber() ? (Object) v.doubleValue() : fail(key, "a number", v, problems);
    }
    if (raw == float.class || raw == Float.class) {
      return v.isNumber() ? (Object) v.floatValue() : fail(key, "a number", v, problems);
    }
    if (raw == boolean.class || raw == Boolean.class) {
      return v.isBoolean() ? (Object) v.booleanValue() : fail(key, "true or false", v, problems);
    }
    if (raw == String.class) {
      return v.isTextual() ? v.textValue() : fail(key, "a string", v, problems);
    }
    if (raw == Path.class) {
      return v.isTextual() ? Path.of(v.textValue()) : fail(key, "a path", v, problems);
    }
    if (raw.isEnum()) {
      if (v.isTextual()) {
        String want = normalize(v.textValue());
        for (Object c : raw.getEnumConstants()) {
          if (normalize(((Enum<?>) c).name()).equals(want)) {
            return c;
          }
        }
      }
      return fail(key, expected(type), v, problems);
    }
    if (raw == List.class || raw == Collection.class) {
      if (!v.isArray()) {
        return fail(key, expected(type), v, problems);
      }
      List<Object> out = new ArrayList<>();
      boolean ok = true;
      for (int i = 0; i < v.size(); i++) {
        Object x = convert(typeArg(type, 0), v.get(i), key + "[" + i + "]", problems);
        ok &= x != FAILED;
        out.add(x);
      }
      return ok ? out : FAILED;
    }
    if (raw == Map.class) {
      if (!v.isObject()) {
        return fail(key, "a mapping", v, problems);
      }
      if (rawType(typeArg(type, 0)) != String.class) {
        problems.add(key + ": parameter type " + type.getTypeName() + " is not supported");
        return FAILED;
      }
      Map<String, Object> out = new LinkedHashMap<>();
      boolean ok = true;
      for (Map.Entry<String, JsonNode> e : v.properties()) {
        Object x = convert(typeArg(type, 1), e.getValue(), key + "." + e.getKey(), problems);
        ok &= x != FAILED;
        out.put(e.getKey(), x);
      }
      return ok ? out : FAILED;
    }
    if (raw.isRecord()) {
      @SuppressWarnings("unchecked")
      Class<Record> rt = (Class<Record>) raw;
      Record r = bind(rt, null, v, key, Set.of(), Set.of(), problems);
      return r == null ? FAILED : r;
    }
    problems.add(key + ": parameter type " + type.getTypeName() + " is not supported in YAML");
    return FAILED;
  }

  private static String expected(Type type) {
    Class<?> raw = rawType(type);
    if (raw.isEnum()) {
      return "one of "
          + Arrays.stream(raw.getEnumConstants()).map(c -> enumName((Enum<?>) c)).toList();
    }
    if (raw == List.class || raw == Collection.class) {
      Class<?> el = rawType(typeArg(type, 0));
      return el == String.class ? "a list of strings" : "a list";
    }
    if (raw == int.class || raw == Integer.class || raw == long.class || raw == Long.class) {
      return "an integer";
    }
    if (raw == double.class || raw == Double.class || raw == float.class || raw == Float.class) {
      return "a number";
    }
    if (raw == boolean.class || raw == Boolean.class) {
      return "true or false";
    }
    if (raw == Map.class || raw.isRecord()) {
      return "a mapping";
    }
    return "a string";
  }

  private static Object fail(String key, String expected, JsonNode v, List<String> problems) {
    problems.add(key + " must be " + expected + ", found " + describe(v));
    return FAILED;
  }

  /** A found value for a message: strings quoted, long values shortened. */
  static String describe(JsonNode v) {
    if (v == null || v.isMissingNode()) {
      return "nothing";
    }
    if (v.isNull()) {
      return "null";
    }
    if (v.isTextual()) {
      return "'" + shorten(v.textValue()) + "'";
    }
    if (v.isObject()) {
      return "a mapping";
    }
    return shorten(v.toString());
  }

  private static String shorten(String s) {
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }

  private static String normalize(String s) {
    return s.trim().toLowerCase(Locale.ROOT).replace('-', '_');
  }

  private static Class<?> rawType(Type t) {
    if (t instanceof Class<?> c) {
      return c;
    }
    if (t instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    return Object.class;
  }

  private static Type typeArg(Type t, int i) {
    return t instanceof ParameterizedType p ? p.getActualTypeArguments()[i] : Object.class;
  }

  // ---- reflection ----

  private static Object read(RecordComponent c, Record r) {
    try {
      Method m = c.getAccessor();
      m.trySetAccessible();
      return m.invoke(r);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot read " + c, e);
    } catch (InvocationTargetException e) {
      throw new IllegalStateException("accessor " + c + " failed", e.getCause());
    }
  }

  private static <R extends Record> R newRecord(Class<R> type, Object[] values) {
    RecordComponent[] comps = type.getRecordComponents();
    Class<?>[] types = Arrays.stream(comps).map(RecordComponent::getType).toArray(Class<?>[]::new);
    try {
      Constructor<R> ctor = type.getDeclaredConstructor(types);
      ctor.trySetAccessible();
      return ctor.newInstance(values);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(type.getName() + " constructor failed", e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot construct " + type.getName(), e);
    }
  }

  private static <T> T construct(
      String path, List<String> problems, java.util.function.Supplier<T> ctor, Class<?> what) {
    try {
      return ctor.get();
    } catch (InvalidConfigException e) {
      for (String p : e.problems()) {
        problems.add(path.isEmpty() ? p : path + "." + p);
      }
    } catch (IllegalArgumentException | NullPointerException e) {
      problems.add(at(path) + ": invalid " + what.getSimpleName() + ": " + e.getMessage());
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private static List<String> castList(Object o) {
    return (List<String>) o;
  }

  private static int indexOf(RecordComponent[] comps, String name) {
    for (int i = 0; i < comps.length; i++) {
      if (comps[i].getName().equals(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException(name);
  }

  // ---- messages ----

  static String join(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  private static String at(String path) {
    return path.isEmpty() ? "the pipeline" : path;
  }

  /** "path: unknown key; did you mean 'x'?" or, without a near miss, the known keys. */
  static String unknownKey(String fullKey, String key, Collection<String> known) {
    Optional<String> near = suggest(key, known);
    return near.isPresent()
        ? fullKey + ": unknown key; did you mean '" + near.get() + "'?"
        : fullKey + ": unknown key; known: " + List.copyOf(known);
  }

  /** The closest of {@code known} to {@code word}, if close enough to be a likely typo. */
  static Optional<String> suggest(String word, Collection<String> known) {
    return DidYouMean.nearest(word, known);
  }
}
