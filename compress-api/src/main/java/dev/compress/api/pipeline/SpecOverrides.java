package dev.compress.api.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassProvider;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code KEY=VALUE} overrides of a pipeline tree (the CLI's {@code run --set}), applied before
 * binding; the syntax is documented at {@link PipelineSpec#withOverrides}. Each path is checked
 * against the schema (the top-level keys, the record of each block, the config record of each
 * pass's type), so a misspelled key is reported with the binder's did-you-mean and the override
 * that holds it. Stateless.
 */
final class SpecOverrides {
  private SpecOverrides() {}

  /** The pseudo-type of the {@code passes} list, whose entries' types depend on their type key. */
  private static final Type PASSES = new Marker("passes");

  /**
   * Below a pass of unknown type, or a value of unknown type: anything goes (the binder checks).
   */
  private static final Type UNTYPED = new Marker("untyped");

  /** The pseudo-type of the root mapping. */
  private static final Type ROOT = new Marker("root");

  private record Marker(String name) implements Type {}

  private static final Map<String, Type> TOP =
      Map.of(
          "apiVersion", String.class,
          "kind", String.class,
          "model", String.class,
          "seed", long.class,
          "device", String.class,
          "calibration", CalibrationSpec.class,
          "passes", PASSES,
          "evaluate", EvaluateSpec.class,
          "output", PipelineSpec.Output.class);

  /** One segment of a path: a name or a list index. */
  private record Segment(String name, int index, boolean quoted) {
    boolean isIndex() {
      return name == null;
    }
  }

  /** An applied override: as given, and the key path the binder uses for it. */
  private record Applied(String given, String path) {}

  /**
   * Applies {@code overrides} to a copy of {@code tree}, then {@code finish} (e.g. the caller's
   * output directory), and binds the result.
   */
  static PipelineSpec bind(
      JsonNode tree, PassRegistry registry, List<String> overrides, Consumer<ObjectNode> finish)
      throws ConfigException {
    tree = Presets.expand(tree); // the overrides apply to the expanded pipeline
    if (!(tree instanceof ObjectNode o)) {
      return PipelineSpec.fromTree(tree, registry); // the binder says what is wrong with it
    }
    if (overrides.isEmpty()) {
      finish.accept(o);
      return PipelineSpec.fromTree(o, registry);
    }
    ObjectNode root = o.deepCopy();
    List<Applied> applied = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (String given : overrides) {
      try {
        applied.add(apply(root, given, registry));
      } catch (ConfigException e) {
        problems.addAll(e.problems());
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    finish.accept(root);
    try {
      return PipelineSpec.fromTree(root, registry);
    } catch (ConfigException e) {
      throw new ConfigException(e.problems().stream().map(p -> blame(p, applied)).toList());
    }
  }

  /** Prefixes a binder problem with the last override whose path it is about. */
  private static String blame(String problem, List<Applied> applied) {
    for (int i = applied.size() - 1; i >= 0; i--) {
      String path = applied.get(i).path();
      if (problem.startsWith(path)
          && (problem.length() == path.length()
              || ".[: ".indexOf(problem.charAt(path.length())) >= 0)) {
        return "--set " + applied.get(i).given() + ": " + problem;
      }
    }
    return problem;
  }

  private static Applied apply(ObjectNode root, String given, PassRegistry registry)
      throws ConfigException {
    String what = "--set " + given;
    int eq = separator(given);
    if (eq <= 0) {
      throw new ConfigException(
          what + ": expected KEY=VALUE, e.g. passes[0].bits=4 or calibration.samples=64");
    }
    String key = given.substring(0, eq).strip();
    String value = given.substring(eq + 1);
    List<Segment> segments = parse(key, what);

    JsonNode cur = root;
    Type type = ROOT;
    StringBuilder path = new StringBuilder();
    boolean optional = false;
    for (int i = 0; i < segments.size(); i++) {
      Segment seg = segments.get(i);
      boolean last = i == segments.size() - 1;
      Class<?> raw = raw(type);
      Type child;
      if (type == UNTYPED) {
        child = UNTYPED;
      } else if (raw == Map.class) {
        // Below a mapping of free-form names the rest of the path is one name, dots included.
        StringBuilder name = new StringBuilder();
        for (int j = i; j < segments.size(); j++) {
          Segment s = segments.get(j);
          if (s.isIndex()) {
            throw new ConfigException(what + ": " + path + " is a mapping, not a list");
          }
          name.append(j > i ? "." : "").append(s.name());
        }
        seg = new Segment(name.toString(), -1, true);
        last = true;
        i = segments.size() - 1;
        child = typeArg(type, 1);
      } else if (type == PASSES || raw == List.class) {
        if (!seg.isIndex()) {
          throw new ConfigException(
              what + ": " + path + " is a list; give an index, e.g. " + path + "[0]");
        }
        if (!(cur instanceof ArrayNode list) || seg.index() >= list.size()) {
          int n = cur instanceof ArrayNode arr ? arr.size() : 0;
          throw new ConfigException(
              what
                  + ": "
                  + path
                  + "["
                  + seg.index()
                  + "] does not exist ("
                  + path
                  + " has "
                  + n
                  + (n == 1 ? " entry" : " entries")
                  + ")");
        }
        child = type == PASSES ? passType(list.get(seg.index()), registry) : typeArg(type, 0);
      } else if (type == ROOT || raw.isRecord() || type instanceof PassType) {
        if (seg.isIndex()) {
          throw new ConfigException(what + ": " + at(path) + " is a mapping, not a list");
        }
        List<String> known = keys(type);
        String full = RecordBinder.join(path.toString(), seg.name());
        if (!known.contains(seg.name())) {
          throw new ConfigException(what + ": " + RecordBinder.unknownKey(full, seg.name(), known));
        }
        child = componentType(type, seg.name());
      } else {
        throw new ConfigException(
            what
                + ": "
                + path
                + " holds "
                + RecordBinder.describe(cur)
                + "; it has no "
                + (seg.isIndex() ? "index [" + seg.index() + "]" : "key '" + seg.name() + "'"));
      }
      optional = raw(child) == Optional.class;
      if (optional) {
        child = typeArg(child, 0);
      }
      if (seg.isIndex()) {
        path.append('[').append(seg.index()).append(']');
      } else {
        path.append(path.isEmpty() ? "" : ".").append(seg.name());
      }
      if (last) {
        JsonNode v = value(value, child, optional, what);
        if (seg.isIndex()) {
          ((ArrayNode) cur).set(seg.index(), v);
        } else {
          ((ObjectNode) cur).set(seg.name(), v);
        }
        return new Applied(given, path.toString());
      }
      JsonNode next = seg.isIndex() ? cur.get(seg.index()) : cur.get(seg.name());
      if (next == null || !(next.isObject() || next.isArray())) {
        Class<?> cr = raw(child);
        if (child == PASSES || cr == List.class) {
          throw new ConfigException(
              what
                  + ": "
                  + path
                  + " is not a list here; set the whole list, e.g. "
                  + path
                  + "=[...]");
        }
        if (!(child == UNTYPED || cr == Map.class || cr.isRecord())) {
          throw new ConfigException(
              what + ": " + path + " takes " + kind(cr) + "; it has no keys below it");
        }
        ObjectNode made = JsonNodeFactory.instance.objectNode();
        if (seg.isIndex()) {
          ((ArrayNode) cur).set(seg.index(), made);
        } else {
          ((ObjectNode) cur).set(seg.name(), made);
        }
        next = made;
      }
      cur = next;
      type = child;
    }
    throw new IllegalStateException("unreachable");
  }

  /** Index of the {@code =} between key and value (not one inside a quoted name). */
  private static int separator(String s) {
    char quote = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quote != 0) {
        quote = c == quote ? 0 : quote;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '=') {
        return i;
      }
    }
    return -1;
  }

  /** {@code a.b[1].c["x.y"]} into segments. */
  private static List<Segment> parse(String key, String what) throws ConfigException {
    List<Segment> out = new ArrayList<>();
    int i = 0;
    String bad =
        what + ": KEY '" + key + "' is not a path like passes[0].bits or evaluate.gates.NAME";
    while (i < key.length()) {
      char c = key.charAt(i);
      if (c == '[') {
        int close = key.indexOf(']', i);
        if (close < 0) {
          throw new ConfigException(bad);
        }
        String inner = key.substring(i + 1, close).strip();
        if (inner.length() >= 2
            && (inner.charAt(0) == '"' || inner.charAt(0) == '\'')
            && inner.charAt(inner.length() - 1) == inner.charAt(0)) {
          // A quoted name may hold ']' only when it is the last segment; keep it simple.
          out.add(new Segment(inner.substring(1, inner.length() - 1), -1, true));
        } else {
          try {
            int idx = Integer.parseInt(inner);
            if (idx < 0) {
              throw new NumberFormatException();
            }
            out.add(new Segment(null, idx, false));
          } catch (NumberFormatException e) {
            throw new ConfigException(bad);
          }
        }
        i = close + 1;
        if (i < key.length() && key.charAt(i) == '.') {
          i++;
        }
      } else {
        int end = i;
        while (end < key.length() && key.charAt(end) != '.' && key.charAt(end) != '[') {
          end++;
        }
        String name = key.substring(i, end);
        if (name.isEmpty()) {
          throw new ConfigException(bad);
        }
        out.add(new Segment(name, -1, false));
        i = end < key.length() && key.charAt(end) == '.' ? end + 1 : end;
        if (end < key.length() && key.charAt(end) == '.' && i == key.length()) {
          throw new ConfigException(bad);
        }
      }
    }
    if (out.isEmpty()) {
      throw new ConfigException(bad);
    }
    return out;
  }

  /** The value for a key of {@code type}: strings as written, everything else read as YAML. */
  private static JsonNode value(String text, Type type, boolean optional, String what)
      throws ConfigException {
    Class<?> raw = raw(type);
    boolean stringLike = raw == String.class || raw == Path.class || raw.isEnum();
    String t = text.strip();
    boolean quoted =
        t.length() >= 2
            && (t.charAt(0) == '"' || t.charAt(0) == '\'')
            && t.charAt(t.length() - 1) == t.charAt(0);
    if (stringLike && !quoted && !(optional && t.equals("null"))) {
      return JsonNodeFactory.instance.textNode(text);
    }
    JsonNode v = PipelineYaml.read(text, what + ": VALUE");
    if (v.isMissingNode()) {
      v = JsonNodeFactory.instance.nullNode();
    }
    if (raw == List.class && v.isValueNode() && !v.isNull()) {
      v = JsonNodeFactory.instance.arrayNode().add(v);
    }
    return v;
  }

  // ---- schema ----

  /** A pass entry: its config record plus the {@code type} key. */
  private record PassType(Class<? extends Record> config) implements Type {}

  private static Type passType(JsonNode pass, PassRegistry registry) {
    JsonNode t = pass == null ? null : pass.get("type");
    if (t == null || !t.isTextual()) {
      return UNTYPED;
    }
    Optional<PassProvider<?>> p = registry.find(t.textValue());
    if (p.isEmpty() || !p.get().configType().isRecord()) {
      return UNTYPED;
    }
    return new PassType(p.get().configType().asSubclass(Record.class));
  }

  private static List<String> keys(Type type) {
    if (type == ROOT) {
      return SpecBinder.TOP_KEYS;
    }
    if (type instanceof PassType p) {
      List<String> k = new ArrayList<>(List.of("type"));
      k.addAll(RecordBinder.keys(p.config()));
      return k;
    }
    return RecordBinder.keys(raw(type).asSubclass(Record.class));
  }

  private static Type componentType(Type type, String key) {
    if (type == ROOT) {
      return TOP.get(key);
    }
    if (key.equals("type") && type instanceof PassType) {
      return String.class;
    }
    Class<?> record = type instanceof PassType p ? p.config() : raw(type);
    for (RecordComponent c : record.getRecordComponents()) {
      if (c.getType() == LayerSelection.class && (key.equals("targets") || key.equals("ignore"))) {
        return LIST_OF_STRINGS;
      }
      if (c.getName().equals(key)) {
        return c.getGenericType();
      }
    }
    return UNTYPED;
  }

  private static final Type LIST_OF_STRINGS =
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

  private static Class<?> raw(Type t) {
    if (t instanceof Class<?> c) {
      return c;
    }
    if (t instanceof ParameterizedType p) {
      Class<?> r = (Class<?>) p.getRawType();
      return r == java.util.Collection.class ? List.class : r;
    }
    return Object.class;
  }

  private static Type typeArg(Type t, int i) {
    return t instanceof ParameterizedType p ? p.getActualTypeArguments()[i] : UNTYPED;
  }

  private static String kind(Class<?> c) {
    if (c == String.class || c == Path.class || c.isEnum()) {
      return "a string";
    }
    if (c == boolean.class || c == Boolean.class) {
      return "true or false";
    }
    return "a number";
  }

  private static String at(StringBuilder path) {
    return path.isEmpty() ? "the pipeline" : path.toString();
  }
}
