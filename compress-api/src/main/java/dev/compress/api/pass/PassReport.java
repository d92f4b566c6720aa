package dev.compress.api.pass;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a pass did: the whole result of one {@link Pass#apply} call. A pass keeps nothing between
 * calls; everything a caller may want afterwards is here or in the graph.
 *
 * @param pass the pass type
 * @param layersTouched names of the layers changed
 * @param layersSkipped layers selected but deliberately left alone, with the reason
 * @param bytesBefore bytes of the touched layers' weights before
 * @param bytesAfter bytes of the touched layers' weights (and their quantization parameters) after
 * @param metrics pass-wide metrics by name (e.g. {@code sqnr_db_mean}, {@code sparsity})
 * @param layerMetrics per-layer metrics: layer name to (metric name to value), layers in the order
 *     the pass visited them (e.g. {@code /encoder/layer.0/attention/self/query/MatMul -> {sqnr_db:
 *     31.2}})
 * @param notes what the pass wants a person to read: warnings (results that may be poor, with a
 *     HINT) and informational lines (structure found, fallbacks taken), in the order raised
 * @param elapsed wall time of the pass
 */
public record PassReport(
    String pass,
    List<String> layersTouched,
    List<Skip> layersSkipped,
    long bytesBefore,
    long bytesAfter,
    Map<String, Double> metrics,
    Map<String, Map<String, Double>> layerMetrics,
    List<Note> notes,
    Duration elapsed) {

  /**
   * A selected layer left alone.
   *
   * @param layer the layer name
   * @param reason why
   */
  public record Skip(String layer, String reason) {}

  /** How much a {@link Note} matters. */
  public enum Severity {
    /** Structure found or a choice made; nothing to act on. */
    INFO,
    /** The result may be poor; the message says what to do (a HINT). */
    WARNING;

    /** The lower-case name used in reports and on the console ({@code warning}). */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * One line for a person.
   *
   * @param severity how much it matters
   * @param layer the layer it is about, if one
   * @param message the text, without the layer name
   */
  public record Note(Severity severity, Optional<String> layer, String message) {
    /** Checks the fields. */
    public Note {
      Objects.requireNonNull(severity, "severity");
      Objects.requireNonNull(layer, "layer");
      Objects.requireNonNull(message, "message");
    }

    /** A warning about one layer. */
    public static Note warning(String layer, String message) {
      return new Note(Severity.WARNING, Optional.of(layer), message);
    }

    /** A warning about the whole pass. */
    public static Note warning(String message) {
      return new Note(Severity.WARNING, Optional.empty(), message);
    }

    /** An informational line about one layer. */
    public static Note info(String layer, String message) {
      return new Note(Severity.INFO, Optional.of(layer), message);
    }

    /** An informational line about the whole pass. */
    public static Note info(String message) {
      return new Note(Severity.INFO, Optional.empty(), message);
    }

    /** The message with its layer: {@code layer 'NAME': MESSAGE}, or the message alone. */
    public String text() {
      return layer.map(l -> "layer '" + l + "': " + message).orElse(message);
    }
  }

  /** Copies the collections (per-layer metrics keep their order). */
  public PassReport {
    layersTouched = List.copyOf(layersTouched);
    layersSkipped = List.copyOf(layersSkipped);
    metrics = Map.copyOf(metrics);
    Map<String, Map<String, Double>> byLayer = new LinkedHashMap<>();
    layerMetrics.forEach(
        (k, v) -> byLayer.put(k, Collections.unmodifiableMap(new LinkedHashMap<>(v))));
    layerMetrics = Collections.unmodifiableMap(byLayer);
    notes = List.copyOf(notes);
  }

  /** A report without per-layer metrics or notes. */
  public PassReport(
      String pass,
      List<String> layersTouched,
      List<Skip> layersSkipped,
      long bytesBefore,
      long bytesAfter,
      Map<String, Double> metrics,
      Duration elapsed) {
    this(
        pass,
        layersTouched,
        layersSkipped,
        bytesBefore,
        bytesAfter,
        metrics,
        Map.of(),
        List.of(),
        elapsed);
  }

  /** One layer's metrics (empty when the pass recorded none for it). */
  public Map<String, Double> layerMetrics(String layer) {
    return layerMetrics.getOrDefault(layer, Map.of());
  }

  /** The notes of {@link Severity#WARNING}. */
  public List<Note> warnings() {
    return notes.stream().filter(n -> n.severity() == Severity.WARNING).toList();
  }

  /**
   * Per-layer metrics as passes collect them: layer to (metric to value), in insertion order. Not
   * thread-safe; one per {@link Pass#apply} call.
   */
  public static final class LayerMetrics {
    private final Map<String, Map<String, Double>> values = new LinkedHashMap<>();

    /** Records {@code metric = value} for {@code layer} (replacing an earlier value). */
    public LayerMetrics put(String layer, String metric, double value) {
      values.computeIfAbsent(layer, k -> new LinkedHashMap<>()).put(metric, value);
      return this;
    }

    /** The value recorded, if any. */
    public Optional<Double> get(String layer, String metric) {
      return Optional.ofNullable(values.getOrDefault(layer, Map.of()).get(metric));
    }

    /** What was recorded (a live view; {@link PassReport} copies it). */
    public Map<String, Map<String, Double>> asMap() {
      return values;
    }
  }
}
