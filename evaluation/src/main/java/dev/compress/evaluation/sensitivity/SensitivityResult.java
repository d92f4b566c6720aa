package dev.compress.evaluation.sensitivity;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The matrix unit × probe of a {@link SensitivityAnalysis}: {@code loss[u][p]} is the fidelity lost
 * (larger: more sensitive) when only probe {@code p} is applied to only unit {@code u}; NaN where
 * the pass refused the unit ({@code skipped[u][p]} says why).
 *
 * @param model the model analysed
 * @param task the held-out task, one line
 * @param lossName what the loss is ({@code 1 - cosine.mean}, ...)
 * @param granularity what a unit is
 * @param units the units, in graph order
 * @param probes the probes, in the order given
 * @param loss {@code [units][probes]}
 * @param skipped {@code [units][probes]}: why a cell was not measured, else null
 * @param baseline the original model's own task metrics
 * @param calibration the calibration set's identity, or {@code none}
 * @param seconds wall time of the analysis
 * @param cacheHits calibration forward calls served from the shared activations
 * @param cacheMisses calibration forward calls run on the engine
 */
public record SensitivityResult(
    String model,
    String task,
    String lossName,
    Granularity granularity,
    List<SensitivityUnit> units,
    List<Probe> probes,
    double[][] loss,
    String[][] skipped,
    Map<String, Double> baseline,
    String calibration,
    double seconds,
    long cacheHits,
    long cacheMisses) {

  /** The mean loss of unit {@code u} over the probes that measured it (NaN when none did). */
  public double meanLoss(int u) {
    double s = 0;
    int n = 0;
    for (double v : loss[u]) {
      if (!Double.isNaN(v)) {
        s += v;
        n++;
      }
    }
    return n == 0 ? Double.NaN : s / n;
  }

  /** Unit indexes, most sensitive (largest mean loss) first; unmeasured units last. */
  public List<Integer> ranking() {
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < units.size(); i++) {
      idx.add(i);
    }
    idx.sort(
        Comparator.comparingDouble(
                (Integer i) -> Double.isNaN(meanLoss(i)) ? Double.NEGATIVE_INFINITY : meanLoss(i))
            .reversed());
    return idx;
  }

  /** The ranked table for stdout: rank, unit, parameters, the loss of each probe and the mean. */
  public String table() {
    int w = Math.max(4, units.stream().mapToInt(u -> u.name().length()).max().orElse(4));
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "sensitivity of %s: %s per %s, most sensitive first; loss = %s on %s%n",
            model,
            probes.size() == 1 ? "1 probe" : probes.size() + " probes",
            granularity.id(),
            lossName,
            task));
    for (int p = 0; p < probes.size(); p++) {
      sb.append(String.format(Locale.ROOT, "  P%d = %s%n", p + 1, probes.get(p).label()));
    }
    sb.append(String.format(Locale.ROOT, "%4s  %-" + w + "s %10s", "rank", "unit", "params"));
    for (int p = 0; p < probes.size(); p++) {
      sb.append(String.format(Locale.ROOT, " %10s", "P" + (p + 1)));
    }
    sb.append(String.format(Locale.ROOT, " %10s%n", "mean"));
    int rank = 1;
    for (int u : ranking()) {
      sb.append(
          String.format(
              Locale.ROOT,
              "%4d  %-" + w + "s %10d",
              rank++,
              units.get(u).name(),
              units.get(u).parameters()));
      for (int p = 0; p < probes.size(); p++) {
        sb.append(' ').append(cell(loss[u][p]));
      }
      sb.append(' ').append(cell(meanLoss(u))).append('\n');
    }
    for (int u = 0; u < units.size(); u++) {
      for (int p = 0; p < probes.size(); p++) {
        if (skipped[u][p] != null) {
          sb.append("  n/a: ")
              .append(units.get(u).name())
              .append(" P")
              .append(p + 1)
              .append(": ")
              .append(skipped[u][p])
              .append('\n');
        }
      }
    }
    return sb.toString();
  }

  private static String cell(double v) {
    return Double.isNaN(v) ? String.format(Locale.ROOT, "%10s", "n/a") : fmt(v);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%10.3e", v);
  }

  /** The matrix as CSV: {@code unit,layers,parameters,<probe labels...>,mean}, graph order. */
  public String toCsv() {
    StringBuilder sb = new StringBuilder("unit,layers,parameters");
    for (Probe p : probes) {
      sb.append(',').append(csv(p.label()));
    }
    sb.append(",mean\n");
    for (int u = 0; u < units.size(); u++) {
      SensitivityUnit unit = units.get(u);
      sb.append(csv(unit.name()))
          .append(',')
          .append(csv(String.join(" ", unit.layers())))
          .append(',')
          .append(unit.parameters());
      for (double v : loss[u]) {
        sb.append(',').append(Double.isNaN(v) ? "" : Double.toString(v));
      }
      double m = meanLoss(u);
      sb.append(',').append(Double.isNaN(m) ? "" : Double.toString(m)).append('\n');
    }
    return sb.toString();
  }

  private static String csv(String s) {
    return s.contains(",") || s.contains("\"") || s.contains(" ")
        ? "\"" + s.replace("\"", "\"\"") + "\""
        : s;
  }

  /** Plain data for the JSON file (schema {@code compress-sensitivity/1}). */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("schema", "compress-sensitivity/1");
    m.put("model", model);
    m.put("task", task);
    m.put("loss", lossName);
    m.put("granularity", granularity.id());
    m.put("seconds", seconds);
    m.put("calibration", calibration);
    m.put("calibrationCache", Map.of("hits", cacheHits, "misses", cacheMisses));
    m.put("baseline", baseline);
    List<Object> ps = new ArrayList<>();
    for (Probe p : probes) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("label", p.label());
      x.put("type", p.type());
      x.put("params", p.params());
      ps.add(x);
    }
    m.put("probes", ps);
    List<Object> us = new ArrayList<>();
    List<Integer> ranking = ranking();
    for (int u = 0; u < units.size(); u++) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("name", units.get(u).name());
      x.put("layers", units.get(u).layers());
      x.put("parameters", units.get(u).parameters());
      x.put("rank", ranking.indexOf(u) + 1);
      List<Object> row = new ArrayList<>();
      for (double v : loss[u]) {
        row.add(Double.isNaN(v) ? null : v);
      }
      x.put("loss", row);
      double mean = meanLoss(u);
      x.put("mean", Double.isNaN(mean) ? null : mean);
      Map<String, String> why = new LinkedHashMap<>();
      for (int p = 0; p < probes.size(); p++) {
        if (skipped[u][p] != null) {
          why.put(probes.get(p).label(), skipped[u][p]);
        }
      }
      if (!why.isEmpty()) {
        x.put("skipped", why);
      }
      us.add(x);
    }
    m.put("units", us);
    return m;
  }

  /** {@link #toMap()} as indented JSON. */
  public String toJson() {
    try {
      return new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .writeValueAsString(toMap());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
