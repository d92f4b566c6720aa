package dev.compress.maven;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.pipeline.Evaluator.EvaluationResult;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The evaluation a pipeline run recorded beside its model ({@code manifest.json}, {@code
 * report.json}), usable by the {@code evaluate} goal when it would measure exactly the same thing:
 * the same original model (SHA-256), the same compressed model (SHA-256), the same fully resolved
 * evaluate block including its gates. Then the recorded gate failures are the ones a new
 * measurement would judge by the same gates, without measuring twice in one build.
 */
final class RecordedEvaluation {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RecordedEvaluation() {}

  static Optional<EvaluationResult> find(PipelineSpec spec, Path original, Path compressed)
      throws IOException {
    Path dir = compressed.getParent();
    Path manifest = dir.resolve(PipelineRunner.MANIFEST_FILE);
    Path report = dir.resolve(PipelineRunner.REPORT_FILE);
    if (!compressed.getFileName().toString().equals(PipelineRunner.MODEL_FILE)
        || !Files.isRegularFile(manifest)
        || !Files.isRegularFile(report)) {
      return Optional.empty();
    }
    JsonNode m;
    JsonNode r;
    try {
      m = JSON.readTree(manifest.toFile());
      r = JSON.readTree(report.toFile());
    } catch (IOException e) {
      return Optional.empty();
    }
    JsonNode ev = m.path("evaluation");
    if (!ev.isObject()) {
      return Optional.empty();
    }
    JsonNode want = JSON.readTree(JSON.writeValueAsString(spec.toMap().get("evaluate")));
    JsonNode had = JSON.readTree(JSON.writeValueAsString(m.path("pipeline").path("evaluate")));
    if (!want.equals(had)
        || !spec.model().equals(m.path("pipeline").path("model").asText())
        || !UpToDate.sha256(compressed).equalsIgnoreCase(m.path("output").path("sha256").asText())
        || !UpToDate.sha256(original).equalsIgnoreCase(m.path("input").path("sha256").asText())) {
      return Optional.empty();
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    ev.path("metrics").properties().forEach(e -> metrics.put(e.getKey(), e.getValue().asDouble()));
    Map<String, String> data = new LinkedHashMap<>();
    ev.path("data").properties().forEach(e -> data.put(e.getKey(), e.getValue().asText()));
    List<String> failures = new ArrayList<>();
    ev.path("gateFailures").forEach(f -> failures.add(f.asText()));
    return Optional.of(
        new EvaluationResult(metrics, data, r.path("table").asText(""), List.copyOf(failures)));
  }
}
