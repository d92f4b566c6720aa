package dev.compress.evaluation.gate;

import dev.compress.api.ConfigException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Parses the {@code evaluate.gates} block and checks measured metrics against it. */
public final class Gates {
  private Gates() {}

  /**
   * Parses every gate, sorted by metric name.
   *
   * @param gates metric name to expression, as in the pipeline
   * @param knownMetrics the metrics the evaluation will produce
   * @throws ConfigException listing every problem at once: each unknown metric (naming {@code
   *     evaluate.gates.METRIC} and the known metrics) and each malformed expression
   */
  public static List<Gate> parse(Map<String, String> gates, Collection<String> knownMetrics)
      throws ConfigException {
    List<Gate> out = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, String> e : new TreeMap<>(gates).entrySet()) {
      if (!knownMetrics.contains(e.getKey())) {
        problems.add(
            "evaluate.gates."
                + e.getKey()
                + ": unknown metric; this evaluation measures "
                + knownMetrics);
        continue;
      }
      try {
        out.add(Gate.parse(e.getKey(), e.getValue()));
      } catch (ConfigException ex) {
        problems.addAll(ex.problems());
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return List.copyOf(out);
  }

  /**
   * One line per gate the metrics fail, e.g. {@code cosine.mean = 0.981 fails gate >= 0.99}; empty
   * when all pass. A gate whose metric is missing fails.
   */
  public static List<String> failures(List<Gate> gates, Map<String, Double> metrics) {
    List<String> out = new ArrayList<>();
    for (Gate g : gates) {
      Double v = metrics.get(g.metric());
      if (v == null) {
        out.add(g.metric() + " was not measured; fails gate " + g.describe());
      } else if (!g.passes(v)) {
        out.add(g.metric() + " = " + Gate.format(v) + " fails gate " + g.describe());
      }
    }
    return List.copyOf(out);
  }
}
