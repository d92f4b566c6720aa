package dev.compress.maven;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.CompressionException;
import dev.compress.api.ToolVersion;
import dev.compress.api.calibration.CalibrationLoader;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.io.BuiltinModels;
import dev.compress.api.io.ModelFiles;
import dev.compress.api.pipeline.PipelineRunner;
import dev.compress.api.pipeline.PipelineSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Decides whether an existing output directory already holds the result of a pipeline, from its
 * {@code manifest.json}: the same tool version, the same fully resolved pipeline, an input model
 * with the recorded SHA-256, the same calibration identity (the calibration samples are loaded and
 * hashed again when the pipeline has a calibration block), and the output files as recorded (the
 * model's SHA-256, every other file's size). Anything else means the pipeline must run.
 */
final class UpToDate {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The outcome.
   *
   * @param upToDate whether the output can be reused
   * @param reason why not, or what matched
   * @param gateFailures the gate failures the manifest recorded (an up-to-date output whose gates
   *     failed still fails the build)
   */
  record Verdict(boolean upToDate, String reason, List<String> gateFailures) {
    static Verdict stale(String why) {
      return new Verdict(false, why, List.of());
    }
  }

  private UpToDate() {}

  /** The tool version the runner records in manifests. */
  static String toolVersion() {
    return ToolVersion.version();
  }

  /** Checks {@code outputDir} against {@code spec}. */
  static Verdict check(PipelineSpec spec, Path outputDir, List<CalibrationLoader> loaders)
      throws IOException, CompressionException {
    Path manifestFile = outputDir.resolve(PipelineRunner.MANIFEST_FILE);
    if (!Files.isRegularFile(manifestFile)) {
      return Verdict.stale("no previous output in " + outputDir);
    }
    JsonNode m;
    try {
      m = JSON.readTree(manifestFile.toFile());
    } catch (JsonProcessingException e) {
      return Verdict.stale(manifestFile + " is not valid JSON");
    }
    String tool = m.path("tool").path("version").asText("");
    if (!tool.equals(toolVersion())) {
      return Verdict.stale("tool version changed (" + tool + " -> " + toolVersion() + ")");
    }
    JsonNode recorded = normalize(m.path("pipeline"));
    JsonNode now = normalize(JSON.valueToTree(spec.toMap()));
    if (!recorded.equals(now)) {
      return Verdict.stale("pipeline changed (" + String.join(", ", diff(recorded, now)) + ")");
    }
    Path input = BuiltinModels.resolve(spec.model());
    if (!Files.isRegularFile(input)) {
      return Verdict.stale("input model " + input + " is missing");
    }
    String inputSha = sha256(input);
    if (!inputSha.equalsIgnoreCase(m.path("input").path("sha256").asText(""))) {
      return Verdict.stale("input model " + input + " changed (SHA-256 " + inputSha + ")");
    }
    JsonNode out = m.path("output");
    Path model = outputDir.resolve(out.path("model").asText(PipelineRunner.MODEL_FILE));
    if (!Files.isRegularFile(model)
        || !sha256(model).equalsIgnoreCase(out.path("sha256").asText(""))) {
      return Verdict.stale(model + " is missing or differs from the manifest");
    }
    for (JsonNode f : out.path("files")) {
      Path p = outputDir.resolve(f.path("name").asText());
      if (!Files.isRegularFile(p) || Files.size(p) != f.path("bytes").asLong(-1)) {
        return Verdict.stale(p + " is missing or differs from the manifest");
      }
    }
    if (spec.calibration().isPresent()) {
      CalibrationSpec cs = spec.calibration().get();
      Optional<CalibrationLoader> loader = loaders.stream().filter(l -> l.supports(cs)).findFirst();
      if (loader.isEmpty()) {
        return Verdict.stale("no calibration loader for kind '" + cs.kind() + "'");
      }
      ModelFiles.Loaded loaded = ModelFiles.load(spec.model());
      JsonNode identity =
          normalize(
              JSON.valueToTree(
                  loader.get().load(cs, loaded.model(), loaded.path(), spec.model()).identity()));
      if (!identity.equals(normalize(m.path("calibration")))) {
        return Verdict.stale("calibration data changed");
      }
    }
    List<String> failures = new ArrayList<>();
    m.path("evaluation").path("gateFailures").forEach(f -> failures.add(f.asText()));
    return new Verdict(
        true,
        "same model (SHA-256 "
            + inputSha.substring(0, 12)
            + "), pipeline"
            + (spec.calibration().isPresent() ? ", calibration data" : "")
            + " and tool version ("
            + tool
            + ")",
        failures);
  }

  /** Round-trips through JSON text so that equal content compares equal (int vs long nodes). */
  private static JsonNode normalize(JsonNode n) throws JsonProcessingException {
    return JSON.readTree(JSON.writeValueAsString(n));
  }

  /** The top-level keys (and pass indexes) whose values differ. */
  private static List<String> diff(JsonNode a, JsonNode b) {
    TreeSet<String> keys = new TreeSet<>();
    for (Iterator<String> it = a.fieldNames(); it.hasNext(); ) {
      keys.add(it.next());
    }
    for (Iterator<String> it = b.fieldNames(); it.hasNext(); ) {
      keys.add(it.next());
    }
    List<String> out = new ArrayList<>();
    for (String k : keys) {
      if (a.path(k).equals(b.path(k))) {
        continue;
      }
      if (k.equals("passes") && a.path(k).size() == b.path(k).size()) {
        for (int i = 0; i < a.path(k).size(); i++) {
          if (!a.path(k).get(i).equals(b.path(k).get(i))) {
            out.add("passes[" + i + "]");
          }
        }
      } else {
        out.add(k);
      }
    }
    return out;
  }

  /** SHA-256 of a file, hex, read in 1 MiB chunks. */
  static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      while (ch.read(buf) >= 0) {
        buf.flip();
        md.update(buf);
        buf.clear();
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
