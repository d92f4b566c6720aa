package dev.compress.evaluation.gate;

import dev.compress.api.ConfigException;
import dev.compress.api.pipeline.DidYouMean;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the {@code evaluate.gates} block and checks measured metrics against it. */
public final class Gates {
  private Gates() {}

  /**
   * Parses every gate, sorted by metric name.
   *
   * @param gates metric name to expression, as in the pipeline
   * @param knownMetrics the metrics the evaluation will produce
   * @throws ConfigException listing every problem at once: each unknown metric (naming {@code
   *     evaluate.gates.METRIC} with a did-you-mean, the unmeasured batch size of a latency metric,
   *     or the known metrics) and each malformed expression
   */
  public static List<Gate> parse(Map<String, String> gates, Collection<String> knownMetrics)
      throws ConfigException {
    List<Gate> out = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, String> e : new TreeMap<>(gates).entrySet()) {
      if (!knownMetrics.contains(e.getKey())) {
        problems.add(unknown(e.getKey(), knownMetrics));
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

  private static final Pattern LATENCY = Pattern.compile("latency\\.b(\\d+)\\.(?:s(\\d+)\\.)?.*");

  /**
   * The message for a metric the evaluation does not measure: a latency metric of a batch size or
   * sequence length that is not measured says so; a near miss gets a did-you-mean; otherwise the
   * measured metrics are listed.
   */
  static String unknown(String metric, Collection<String> knownMetrics) {
    String key = "evaluate.gates." + metric;
    Matcher m = LATENCY.matcher(metric);
    if (m.matches()) {
      Set<String> batches = new TreeSet<>();
      Set<String> seqs = new TreeSet<>();
      for (String k : knownMetrics) {
        Matcher km = LATENCY.matcher(k);
        if (km.matches()) {
          batches.add(km.group(1));
          if (km.group(2) != null) {
            seqs.add(km.group(2));
          }
        }
      }
      if (!batches.contains(m.group(1))) {
        return key
            + ": batch size "
            + m.group(1)
            + " is not measured (evaluate.latencyBatchSizes: "
            + (batches.isEmpty() ? "none" : batches.toString())
            + "); add "
            + m.group(1)
            + " to evaluate.latencyBatchSizes or gate a measured batch size";
      }
      if (m.group(2) != null && !seqs.contains(m.group(2))) {
        return key
            + ": sequence length "
            + m.group(2)
            + " is not measured (evaluate.sequenceLengths: "
            + (seqs.isEmpty() ? "none" : seqs.toString())
            + "); add "
            + m.group(2)
            + " to evaluate.sequenceLengths";
      }
    }
    Optional<String> near = DidYouMean.nearest(metric, knownMetrics);
    return near.isPresent()
        ? key + ": unknown metric; did you mean '" + near.get() + "'?"
        : key + ": unknown metric; this evaluation measures " + knownMetrics;
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
