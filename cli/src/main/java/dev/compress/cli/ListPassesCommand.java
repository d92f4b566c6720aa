package dev.compress.cli;

import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pipeline.PassRegistry;
import java.io.PrintWriter;
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
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code compress list-passes}: every registered pass with its keys. The keys are the config
 * record's components (so none is missing), each with its value type and its default taken from
 * {@link PassProvider#defaults()} (written once, here, not in the descriptions); enum values are
 * shown lower-case, as pipelines write them.
 */
@Command(
    name = "list-passes",
    mixinStandardHelpOptions = true,
    description = "List the passes on the class path with their keys, value types and defaults.")
final class ListPassesCommand implements Callable<Integer> {
  static final String TARGETS = "layer names or re:REGEX over node names";

  @Spec CommandSpec spec;

  @Option(
      names = "--json",
      description = "Print one JSON object (schema compress/list-passes/v1) instead of the text.")
  boolean json;

  /**
   * One key of a pass.
   *
   * @param name the key
   * @param type the value type as a user reads it
   * @param defaultValue the default as plain data (null: none, or all layers for {@code targets})
   * @param defaultText the default as the text listing shows it
   * @param description what the key means and the values it accepts
   */
  record Key(
      String name, String type, Object defaultValue, String defaultText, String description) {}

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PassRegistry registry = PassRegistry.load();
    if (json) {
      Map<String, Object> d = JsonOutput.document("list-passes");
      List<Object> passes = new ArrayList<>();
      for (PassProvider<?> p : registry.all()) {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("type", p.type());
        x.put("description", p.description());
        x.put("needsCalibration", p.needsCalibration());
        List<Object> keys = new ArrayList<>();
        for (Key k : keys(p)) {
          Map<String, Object> y = new LinkedHashMap<>();
          y.put("name", k.name());
          y.put("type", k.type());
          y.put("default", k.defaultValue());
          y.put("description", k.description());
          keys.add(y);
        }
        x.put("keys", keys);
        passes.add(x);
      }
      d.put("passes", passes);
      JsonOutput.print(out, d);
      return CompressCommand.OK;
    }
    int width = width();
    for (PassProvider<?> p : registry.all()) {
      out.println(p.type() + (p.needsCalibration() ? "  (needs calibration data)" : ""));
      wrap(out, p.description(), "  ", "  ", width);
      List<Key> keys = keys(p);
      int nameWidth = keys.stream().mapToInt(k -> k.name().length()).max().orElse(0) + 2;
      String indent = " ".repeat(4 + nameWidth);
      for (Key k : keys) {
        String head = "    " + pad(k.name(), nameWidth);
        wrap(out, k.type() + " (default: " + k.defaultText() + ")", head, indent, width);
        if (!k.description().isEmpty()) {
          wrap(out, k.description(), indent, indent, width);
        }
      }
      out.println();
    }
    out.flush();
    return CompressCommand.OK;
  }

  /** The keys of {@code p}'s config in record order; the layer selection as targets and ignore. */
  static List<Key> keys(PassProvider<?> p) {
    Map<String, String> docs = new LinkedHashMap<>();
    p.parameters().forEach(d -> docs.put(d.name(), d.description()));
    PassConfig defaults = p.defaults();
    List<Key> keys = new ArrayList<>();
    for (RecordComponent c : p.configType().getRecordComponents()) {
      if (c.getType() == LayerSelection.class) {
        keys.add(
            new Key(
                "targets",
                "list of strings",
                null,
                "all linear layers",
                docs.getOrDefault("targets", TARGETS + " to compress")));
        keys.add(
            new Key(
                "ignore",
                "list of strings",
                List.of(),
                "none",
                docs.getOrDefault("ignore", TARGETS + " to leave out")));
        continue;
      }
      Object value;
      try {
        value = plain(c.getAccessor().invoke(defaults));
      } catch (ReflectiveOperationException e) {
        value = "?";
      }
      keys.add(
          new Key(
              c.getName(),
              typeName(c.getGenericType()),
              value,
              text(value),
              docs.getOrDefault(c.getName(), "")));
    }
    return keys;
  }

  /** The value type as a user reads it: {@code integer}, {@code per_channel | per_group}, ... */
  static String typeName(Type type) {
    Class<?> raw = raw(type);
    if (raw.isEnum()) {
      return Arrays.stream(raw.getEnumConstants())
          .map(e -> enumName((Enum<?>) e))
          .collect(Collectors.joining(" | "));
    }
    if (raw == int.class || raw == Integer.class || raw == long.class || raw == Long.class) {
      return "integer";
    }
    if (raw == double.class || raw == Double.class || raw == float.class || raw == Float.class) {
      return "number";
    }
    if (raw == boolean.class || raw == Boolean.class) {
      return "true | false";
    }
    if (raw == String.class) {
      return "string";
    }
    if (raw == Path.class) {
      return "path";
    }
    if (raw == List.class || raw == Collection.class) {
      return "list of " + plural(typeName(argument(type, 0)));
    }
    if (raw == Map.class) {
      return "mapping of string to " + typeName(argument(type, 1));
    }
    if (raw == Optional.class) {
      return typeName(argument(type, 0)) + ", optional";
    }
    if (raw.isRecord()) {
      return "mapping";
    }
    return raw.getSimpleName();
  }

  private static String plural(String t) {
    return switch (t) {
      case "string", "integer", "number", "path", "mapping" -> t + "s";
      default -> t;
    };
  }

  private static Class<?> raw(Type t) {
    if (t instanceof Class<?> c) {
      return c;
    }
    if (t instanceof ParameterizedType p) {
      return raw(p.getRawType());
    }
    return Object.class;
  }

  private static Type argument(Type t, int i) {
    return t instanceof ParameterizedType p && p.getActualTypeArguments().length > i
        ? p.getActualTypeArguments()[i]
        : Object.class;
  }

  /** A default as plain data: enums lower-case as pipelines write them, absent optionals null. */
  static Object plain(Object v) {
    return switch (v) {
      case null -> null;
      case Enum<?> e -> enumName(e);
      case Optional<?> o -> o.map(ListPassesCommand::plain).orElse(null);
      case Path p -> p.toString();
      case Collection<?> c -> c.stream().map(ListPassesCommand::plain).toList();
      case Map<?, ?> m -> {
        Map<String, Object> sorted = new TreeMap<>();
        m.forEach((k, x) -> sorted.put(String.valueOf(k), plain(x)));
        yield sorted;
      }
      case Number n -> n;
      case Boolean b -> b;
      default -> v.toString();
    };
  }

  static String enumName(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  /** A default for the text listing: strings bare, lists and mappings as in YAML flow style. */
  private static String text(Object v) {
    return switch (v) {
      case null -> "none";
      case List<?> l when l.isEmpty() -> "none";
      case List<?> l -> l.stream().map(ListPassesCommand::text).toList().toString();
      case Map<?, ?> m when m.isEmpty() -> "{}";
      case Map<?, ?> m ->
          m.entrySet().stream()
              .map(e -> e.getKey() + ": " + text(e.getValue()))
              .collect(Collectors.joining(", ", "{", "}"));
      case String s when s.isEmpty() -> "\"\"";
      default -> String.valueOf(v);
    };
  }

  /** Prints {@code text} in lines of at most {@code width} columns, breaking at spaces. */
  static void wrap(PrintWriter out, String text, String first, String rest, int width) {
    StringBuilder line = new StringBuilder(first);
    int start = line.length();
    for (String word : text.trim().split("\\s+")) {
      if (line.length() > start && line.length() + 1 + word.length() > width) {
        out.println(line);
        line = new StringBuilder(rest);
        start = line.length();
      }
      if (line.length() > start) {
        line.append(' ');
      }
      line.append(word);
    }
    out.println(line);
  }

  private static String pad(String s, int w) {
    return s.length() >= w ? s + " " : s + " ".repeat(w - s.length());
  }

  /** {@code $COLUMNS} when set (60 to 200), else 100. */
  static int width() {
    try {
      String c = System.getenv("COLUMNS");
      return c == null ? 100 : Math.clamp(Integer.parseInt(c.trim()), 60, 200);
    } catch (NumberFormatException e) {
      return 100;
    }
  }
}
