package dev.compress.evaluation.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.compress.evaluation.bench.BenchReport;
import dev.compress.evaluation.bench.BenchReport.LatencyPoint;
import dev.compress.evaluation.latency.Bootstrap.Interval;
import dev.compress.evaluation.latency.LatencyStats;
import dev.compress.evaluation.layers.LayerErrors;
import dev.compress.evaluation.layers.LayerErrors.LayerError;
import dev.compress.evaluation.memory.MemoryProbe;
import dev.compress.evaluation.task.DataIdentity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link BenchReport} as JSON for machines, schema {@value #SCHEMA}:
 *
 * <pre>{@code
 * { "schema": "compress-report/1",
 *   "environment": { "java": ..., "engine": ..., "threads": ..., "latency": ..., ... },
 *   "baseline": NAME,
 *   "variants": [ { "name", "path", "bytes", "sizeRatio",
 *                   "memory": { "heapBeforeBytes", "heapPeakBytes", "heapPeakDeltaBytes",
 *                               "rssBeforeBytes", "rssPeakBytes", "rssPeakDeltaBytes",
 *                               "rssAfterBytes", "rssPeakReset" } | null,
 *                   "metrics": { METRIC: number, ... } } ],
 *   "task": { "name", "primaryMetric", "higherIsBetter", "primaryMetricRange": [0, 1] | null,
 *             "pooling": "mean"|"cls"|"none" (embedding tasks only),
 *             "data": { ROLE: { "source", "count", "sha256" } }, "notes": [..] } | null,
 *   "latency": [ { "batch", "sequenceLength",
 *                  "variants": [ { "name", "samples", "p50Ms", "p50Ci": [lo, hi], "p90Ms",
 *                                  "p90Ci", "p99Ms", "p99Ci", "minMs", "meanMs",
 *                                  "throughputPerSec", "p50Ratio", "runsMs": [..] } ] } ],
 *   "layerErrorModes": [ "accumulated" | "isolated", .. ],
 *   "layerErrorInputs": "what the per-layer errors ran on",
 *   "layerErrors": { VARIANT: [ { "layer", "mode": "accumulated"|"isolated",
 *                                 "method": "activation"|"weight", "relativeError" } ] },
 *   "gates": [ { "metric", "bound", "value", "passed" } ],
 *   "notes": [..] }
 * }</pre>
 *
 * Ratios are variant / baseline; latency CIs are 95% percentile-bootstrap intervals.
 */
public final class JsonReport {
  /** The schema name written into every report. */
  public static final String SCHEMA = "compress-report/1";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private JsonReport() {}

  /** The report as plain maps and lists, in the schema's key order; no gates. */
  public static Map<String, Object> toMap(BenchReport r) {
    return toMap(r, List.of());
  }

  /** The report and the results of its gates as plain maps and lists, in the schema's order. */
  public static Map<String, Object> toMap(BenchReport r, List<GateResult> gates) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("schema", SCHEMA);
    m.put("environment", r.environment());
    m.put("baseline", r.variants().get(0).name());
    long base = r.variants().get(0).bytes();
    List<Object> variants = new ArrayList<>();
    for (int i = 0; i < r.variants().size(); i++) {
      BenchReport.VariantResult v = r.variants().get(i);
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("name", v.name());
      x.put("path", v.path());
      x.put("bytes", v.bytes());
      x.put("sizeRatio", (double) v.bytes() / base);
      x.put("memory", v.memory().map(JsonReport::memory).orElse(null));
      x.put("metrics", new TreeMap<>(r.taskMetrics(i)));
      variants.add(x);
    }
    m.put("variants", variants);
    m.put(
        "task",
        r.task()
            .map(
                t -> {
                  Map<String, Object> x = new LinkedHashMap<>();
                  x.put("name", t.kind().id());
                  x.put("primaryMetric", t.kind().primaryMetric());
                  x.put("higherIsBetter", t.kind().higherIsBetter());
                  x.put("primaryMetricRange", t.kind().unitInterval() ? List.of(0, 1) : null);
                  x.putAll(t.settings());
                  Map<String, Object> data = new TreeMap<>();
                  t.data().forEach((role, id) -> data.put(role, identity(id)));
                  x.put("data", data);
                  x.put("notes", t.notes());
                  return x;
                })
            .orElse(null));
    List<Object> latency = new ArrayList<>();
    for (LatencyPoint p : r.latency()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("batch", p.batch());
      x.put("sequenceLength", p.sequenceLength());
      List<Object> per = new ArrayList<>();
      for (int i = 0; i < p.stats().size(); i++) {
        per.add(stats(r.variants().get(i).name(), p.stats().get(i), p.batch(), p.p50Ratio(i)));
      }
      x.put("variants", per);
      latency.add(x);
    }
    m.put("latency", latency);
    Map<String, Object> layers = new LinkedHashMap<>();
    r.layerErrors()
        .forEach(
            (name, list) -> {
              List<Object> l = new ArrayList<>();
              for (LayerError e : list) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("layer", e.layer());
                x.put("mode", e.mode().id());
                x.put("method", e.method().name().toLowerCase(java.util.Locale.ROOT));
                x.put("relativeError", e.relativeError());
                l.add(x);
              }
              layers.put(name, l);
            });
    m.put("layerErrorModes", r.layerErrorModes().stream().map(LayerErrors.Mode::id).toList());
    m.put("layerErrorInputs", r.layerErrorInputs());
    m.put("layerErrors", layers);
    List<Object> g = new ArrayList<>();
    for (GateResult x : gates) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("metric", x.metric());
      e.put("bound", x.bound());
      e.put("value", Double.isFinite(x.value()) ? x.value() : null);
      e.put("passed", x.passed());
      g.add(e);
    }
    m.put("gates", g);
    m.put("notes", r.notes());
    return m;
  }

  /** The report as indented JSON text. */
  public static String toJson(BenchReport r) {
    return toJson(r, List.of());
  }

  /** The report and its gates as indented JSON text. */
  public static String toJson(BenchReport r, List<GateResult> gates) {
    try {
      return JSON.writeValueAsString(toMap(r, gates));
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialize the report", e);
    }
  }

  /** Writes the report to {@code file} (UTF-8). */
  public static void write(BenchReport r, Path file) throws IOException {
    write(r, List.of(), file);
  }

  /** Writes the report and its gates to {@code file} (UTF-8). */
  public static void write(BenchReport r, List<GateResult> gates, Path file) throws IOException {
    Files.writeString(file, toJson(r, gates) + "\n", StandardCharsets.UTF_8);
  }

  static Map<String, Object> identity(DataIdentity id) {
    Map<String, Object> x = new LinkedHashMap<>();
    x.put("source", id.source());
    x.put("count", id.count());
    x.put("sha256", id.sha256());
    return x;
  }

  private static Map<String, Object> memory(MemoryProbe.Usage u) {
    Map<String, Object> x = new LinkedHashMap<>();
    x.put("heapBeforeBytes", u.heapBeforeBytes());
    x.put("heapPeakBytes", u.heapPeakBytes());
    x.put("heapPeakDeltaBytes", u.heapPeakDeltaBytes());
    x.put("rssBeforeBytes", u.rssBeforeBytes());
    x.put("rssPeakBytes", u.rssPeakBytes());
    x.put("rssPeakDeltaBytes", u.rssPeakDeltaBytes());
    x.put("rssAfterBytes", u.rssAfterBytes());
    x.put("rssPeakReset", u.rssPeakReset());
    return x;
  }

  private static Map<String, Object> stats(String name, LatencyStats s, int batch, double ratio) {
    Map<String, Object> x = new LinkedHashMap<>();
    x.put("name", name);
    x.put("samples", s.samples());
    x.put("p50Ms", s.p50Ms());
    x.put("p50Ci", ci(s.p50Ci()));
    x.put("p90Ms", s.p90Ms());
    x.put("p90Ci", ci(s.p90Ci()));
    x.put("p99Ms", s.p99Ms());
    x.put("p99Ci", ci(s.p99Ci()));
    x.put("minMs", s.minMs());
    x.put("meanMs", s.meanMs());
    x.put("throughputPerSec", s.throughput(batch));
    x.put("p50Ratio", ratio);
    x.put("runsMs", s.runsMs());
    return x;
  }

  private static List<Double> ci(Interval i) {
    return List.of(i.lower(), i.upper());
  }
}
