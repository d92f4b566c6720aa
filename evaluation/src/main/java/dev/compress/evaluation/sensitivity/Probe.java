package dev.compress.evaluation.sensitivity;

import dev.compress.api.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One probe: a pass type and its parameters (without {@code targets}/{@code ignore}, which the
 * analysis sets to one unit at a time).
 *
 * @param label how tables and charts name it, e.g. {@code wanda sparsity=0.5}
 * @param type the registered pass type
 * @param params the pass's parameters as pipeline YAML gives them (key to scalar)
 * @param source where it was given, for messages ({@code --probe 'wanda sparsity=1.5'} or {@code
 *     passes[1]})
 */
public record Probe(String label, String type, Map<String, Object> params, String source) {
  /** Keys a probe may not set: the analysis restricts every probe to one unit itself. */
  public static final List<String> RESERVED = List.of("targets", "ignore");

  /** Copies the parameters, keeping their order. */
  public Probe {
    Objects.requireNonNull(type, "type");
    params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
  }

  /**
   * Parses one {@code --probe} value: the pass type, then {@code KEY=VALUE} words separated by
   * spaces; a value with commas ({@code sparsity=0.3,0.5,0.7}) sweeps the key, giving one probe per
   * value (two swept keys give every combination). Values are YAML scalars: integers, decimals,
   * {@code true}/{@code false}, else strings.
   *
   * @throws ConfigException naming the option for an empty type, a word without {@code =}, an empty
   *     value or a reserved key
   */
  public static List<Probe> parse(String spec) throws ConfigException {
    String src = "--probe '" + spec + "'";
    String[] words = spec == null ? new String[0] : spec.trim().split("\\s+");
    if (words.length == 0 || words[0].isEmpty() || words[0].contains("=")) {
      throw new ConfigException(
          src + ": must start with a pass type, e.g. --probe 'wanda sparsity=0.3,0.5,0.7'");
    }
    String type = words[0];
    Map<String, List<Object>> sweep = new LinkedHashMap<>();
    for (int i = 1; i < words.length; i++) {
      int eq = words[i].indexOf('=');
      if (eq <= 0 || eq == words[i].length() - 1) {
        throw new ConfigException(
            src + ": '" + words[i] + "' must be KEY=VALUE (values separated by commas)");
      }
      String key = words[i].substring(0, eq);
      if (RESERVED.contains(key)) {
        throw new ConfigException(
            src
                + ": "
                + key
                + " is set per unit by the analysis (HINT: choose the units with --units REGEX)");
      }
      List<Object> values = new ArrayList<>();
      for (String v : words[i].substring(eq + 1).split(",", -1)) {
        if (v.isBlank()) {
          throw new ConfigException(src + ": " + key + " has an empty value");
        }
        values.add(scalar(v.trim()));
      }
      if (sweep.put(key, values) != null) {
        throw new ConfigException(src + ": " + key + " is given twice");
      }
    }
    List<Map<String, Object>> combos = new ArrayList<>();
    combos.add(new LinkedHashMap<>());
    for (Map.Entry<String, List<Object>> e : sweep.entrySet()) {
      List<Map<String, Object>> next = new ArrayList<>();
      for (Map<String, Object> c : combos) {
        for (Object v : e.getValue()) {
          Map<String, Object> m = new LinkedHashMap<>(c);
          m.put(e.getKey(), v);
          next.add(m);
        }
      }
      combos = next;
    }
    List<Probe> out = new ArrayList<>();
    for (Map<String, Object> c : combos) {
      out.add(new Probe(label(type, c), type, c, src));
    }
    return out;
  }

  /** {@code TYPE KEY=VALUE ...} of the given parameters. */
  static String label(String type, Map<String, Object> params) {
    StringBuilder sb = new StringBuilder(type);
    params.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
    return sb.toString();
  }

  private static Object scalar(String v) {
    String l = v.toLowerCase(Locale.ROOT);
    if (l.equals("true") || l.equals("false")) {
      return Boolean.parseBoolean(l);
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      // not an integer
    }
    try {
      if (v.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
        return Double.parseDouble(v);
      }
    } catch (NumberFormatException e) {
      // not a number
    }
    return v;
  }
}
