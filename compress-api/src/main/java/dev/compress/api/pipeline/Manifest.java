package dev.compress.api.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.compress.api.ToolVersion;
import dev.compress.api.calibration.CalibrationIdentity;
import dev.compress.api.exec.Device;
import dev.compress.api.pass.PassReport;
import dev.compress.api.pipeline.Evaluator.EvaluationResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The contents of {@code manifest.json} and {@code report.json}: plain maps in a fixed key order,
 * written as pretty JSON. Everything needed to rerun is in the manifest ({@code pipeline}, {@code
 * input.sha256}); timestamps and timings are recorded but never feed the model.
 */
final class Manifest {
  /** The manifest format version. */
  static final int VERSION = 1;

  static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  private Manifest() {}

  /** The tool version (project version and git commit, see {@link ToolVersion}). */
  static String toolVersion() {
    return ToolVersion.version();
  }

  static Map<String, Object> environment() {
    Map<String, Object> java = new LinkedHashMap<>();
    java.put("version", Runtime.version().toString());
    java.put("vendor", System.getProperty("java.vendor"));
    java.put("vm", System.getProperty("java.vm.name"));
    Map<String, Object> os = new LinkedHashMap<>();
    os.put("name", System.getProperty("os.name"));
    os.put("version", System.getProperty("os.version"));
    os.put("arch", System.getProperty("os.arch"));
    Map<String, Object> env = new LinkedHashMap<>();
    env.put("java", java);
    env.put("os", os);
    env.put("cpus", Runtime.getRuntime().availableProcessors());
    env.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
    return env;
  }

  /** The manifest. */
  static Map<String, Object> manifest(
      PipelineSpec spec,
      Path inputFile,
      String inputSha256,
      Optional<CalibrationIdentity> calibration,
      Device device,
      List<PassReport> reports,
      Optional<EvaluationResult> evaluation,
      Map<String, Object> output,
      Instant started,
      Instant finished) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("manifestVersion", VERSION);
    Map<String, Object> tool = new LinkedHashMap<>();
    tool.put("name", "compress");
    tool.put("version", toolVersion());
    tool.put("engines", ToolVersion.engines());
    m.put("tool", tool);
    m.put("environment", environment());
    Map<String, Object> input = new LinkedHashMap<>();
    input.put("model", spec.model());
    input.put("path", inputFile.toAbsolutePath().toString());
    input.put("sha256", inputSha256);
    m.put("input", input);
    m.put("pipeline", spec.toMap());
    m.put("seed", spec.seed());
    Map<String, Object> dev = new LinkedHashMap<>();
    dev.put("requested", spec.device());
    dev.put("used", device.name().toLowerCase(Locale.ROOT));
    m.put("device", dev);
    m.put("calibration", calibration.map(RecordBinder::toMap).orElse(null));
    m.put("passes", passes(reports));
    m.put("evaluation", evaluation.map(Manifest::evaluation).orElse(null));
    m.put("output", output);
    Map<String, Object> times = new LinkedHashMap<>();
    times.put("started", started.toString());
    times.put("finished", finished.toString());
    m.put("timestamps", times);
    return m;
  }

  /** The report: what each pass did and what the evaluation measured. */
  static Map<String, Object> report(
      List<PassReport> reports, Optional<EvaluationResult> evaluation) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("passes", passes(reports));
    m.put("evaluation", evaluation.map(Manifest::evaluation).orElse(null));
    evaluation.ifPresent(e -> m.put("table", e.table()));
    return m;
  }

  static List<Map<String, Object>> passes(List<PassReport> reports) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = 0; i < reports.size(); i++) {
      PassReport r = reports.get(i);
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("index", i);
      p.put("pass", r.pass());
      p.put("layersTouched", r.layersTouched());
      List<Map<String, Object>> skipped = new ArrayList<>();
      for (PassReport.Skip s : r.layersSkipped()) {
        Map<String, Object> sm = new LinkedHashMap<>();
        sm.put("layer", s.layer());
        sm.put("reason", s.reason());
        skipped.add(sm);
      }
      p.put("layersSkipped", skipped);
      p.put("bytesBefore", r.bytesBefore());
      p.put("bytesAfter", r.bytesAfter());
      p.put("metrics", new TreeMap<>(r.metrics()));
      Map<String, Object> layers = new LinkedHashMap<>();
      r.layerMetrics().forEach((layer, values) -> layers.put(layer, new TreeMap<>(values)));
      p.put("layerMetrics", layers);
      List<Map<String, Object>> notes = new ArrayList<>();
      for (PassReport.Note n : r.notes()) {
        Map<String, Object> nm = new LinkedHashMap<>();
        nm.put("severity", n.severity().label());
        n.layer().ifPresent(l -> nm.put("layer", l));
        nm.put("message", n.message());
        notes.add(nm);
      }
      p.put("notes", notes);
      p.put("elapsedMillis", r.elapsed() == null ? null : r.elapsed().toMillis());
      out.add(p);
    }
    return out;
  }

  private static Map<String, Object> evaluation(EvaluationResult e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("metrics", e.metrics() == null ? Map.of() : new TreeMap<>(e.metrics()));
    m.put("data", e.dataIdentity() == null ? Map.of() : new TreeMap<>(e.dataIdentity()));
    m.put("gateFailures", e.gateFailures() == null ? List.of() : e.gateFailures());
    return m;
  }

  static void write(Path file, Map<String, Object> content) throws IOException {
    Files.writeString(
        file, JSON.writeValueAsString(content) + System.lineSeparator(), StandardCharsets.UTF_8);
  }

  static JsonNode read(Path file) throws IOException {
    try (var in = Files.newInputStream(file)) {
      return JSON.readTree(in);
    }
  }
}
