package dev.compress.api.pipeline;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.util.StringQuotingChecker;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pipeline.PipelineSpec.Output;
import dev.compress.api.pipeline.PipelineSpec.PassSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Binds a parsed pipeline tree onto a {@link PipelineSpec}, collecting every problem. */
final class SpecBinder {
  /** YAML in and out: duplicate keys rejected; output without a document marker, few quotes. */
  static final YAMLMapper YAML =
      YAMLMapper.builder(YAMLFactory.builder().stringQuotingChecker(new Quoting()).build())
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
          .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
          .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
          .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
          .build();

  /**
   * Quotes, besides what the default checker quotes, every string a YAML reader might take for a
   * number ({@code 0x10}, {@code 1_000}, {@code .5}, {@code .inf}), so written specs read back
   * equal.
   */
  private static final class Quoting extends StringQuotingChecker.Default {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean needToQuoteValue(String value) {
      if (super.needToQuoteValue(value)) {
        return true;
      }
      String v = value.startsWith("+") || value.startsWith("-") ? value.substring(1) : value;
      return !v.isEmpty() && (Character.isDigit(v.charAt(0)) || v.charAt(0) == '.');
    }
  }

  static final List<String> TOP_KEYS =
      List.of(
          "apiVersion",
          "kind",
          "model",
          "seed",
          "device",
          "calibration",
          "passes",
          "evaluate",
          "output");

  private static final String PLACEHOLDER = "<required>";

  private final PassRegistry registry;
  private final List<String> problems = new ArrayList<>();

  SpecBinder(PassRegistry registry) {
    this.registry = registry;
  }

  PipelineSpec bind(JsonNode root) throws ConfigException {
    if (root == null || root.isMissingNode() || root.isNull()) {
      throw new ConfigException("the pipeline is empty; it needs apiVersion, kind, model, passes");
    }
    if (!root.isObject()) {
      throw new ConfigException(
          "the pipeline must be a mapping of apiVersion, kind, model, passes, ...; found "
              + RecordBinder.describe(root));
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!TOP_KEYS.contains(key)) {
        problems.add(RecordBinder.unknownKey(key, key, TOP_KEYS));
      }
    }
    String apiVersion = text(root, "apiVersion");
    String kind = text(root, "kind");
    String model = text(root, "model");
    long seed = 0;
    JsonNode s = root.get("seed");
    if (s != null) {
      if (s.isIntegralNumber() && s.canConvertToLong()) {
        seed = s.longValue();
      } else {
        problems.add("seed must be an integer, found " + RecordBinder.describe(s));
      }
    }
    String device = null;
    JsonNode d = root.get("device");
    if (d != null && !d.isNull()) {
      if (d.isTextual()) {
        device = d.textValue();
      } else {
        problems.add(
            "device must be one of "
                + PipelineSpec.DEVICES
                + ", found "
                + RecordBinder.describe(d));
      }
    }
    Optional<CalibrationSpec> calibration = Optional.empty();
    if (root.hasNonNull("calibration")) {
      calibration =
          Optional.ofNullable(
              RecordBinder.bind(
                  CalibrationSpec.class,
                  CalibrationSpec.defaults(PLACEHOLDER),
                  root.get("calibration"),
                  "calibration",
                  Set.of("source"),
                  Set.of(),
                  problems));
    }
    List<PassSpec> passes = passes(root.get("passes"));
    Optional<EvaluateSpec> evaluate = Optional.empty();
    if (root.hasNonNull("evaluate")) {
      evaluate =
          Optional.ofNullable(
              RecordBinder.bind(
                  EvaluateSpec.class,
                  EvaluateSpec.defaults(PLACEHOLDER),
                  root.get("evaluate"),
                  "evaluate",
                  Set.of("data"),
                  Set.of(),
                  problems));
    }
    Output output = null;
    if (root.get("output") == null) {
      problems.add("output is required (output: {dir: DIR})");
    } else {
      output =
          RecordBinder.bind(
              Output.class,
              new Output(Path.of(PLACEHOLDER), false),
              root.get("output"),
              "output",
              Set.of("dir"),
              Set.of(),
              problems);
    }
    if (device != null) {
      PipelineSpec.deviceProblem(device).ifPresent(problems::add); // with the rest, not after
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    try {
      return new PipelineSpec(
          apiVersion, kind, model, calibration, passes, evaluate, output, seed, device);
    } catch (InvalidConfigException e) {
      throw new ConfigException(e.problems());
    }
  }

  private String text(JsonNode root, String key) {
    JsonNode v = root.get(key);
    if (v == null) {
      problems.add(
          key
              + " is required"
              + switch (key) {
                case "apiVersion" -> " (" + PipelineSpec.API_VERSION + ")";
                case "kind" -> " (" + PipelineSpec.KIND + ")";
                case "model" -> " (a path to an .onnx file or builtin:NAME)";
                default -> "";
              });
      return null;
    }
    if (!v.isTextual()) {
      problems.add(key + " must be a string, found " + RecordBinder.describe(v));
      return null;
    }
    String t = v.textValue();
    if (key.equals("apiVersion") && !t.equals(PipelineSpec.API_VERSION)) {
      problems.add("apiVersion must be " + PipelineSpec.API_VERSION + ", found '" + t + "'");
    } else if (key.equals("kind") && !t.equals(PipelineSpec.KIND)) {
      problems.add("kind must be " + PipelineSpec.KIND + ", found '" + t + "'");
    } else if (t.isBlank()) {
      problems.add(key + " must not be empty");
    }
    return t;
  }

  private List<PassSpec> passes(JsonNode node) {
    List<PassSpec> out = new ArrayList<>();
    if (node == null) {
      problems.add("passes is required (a list of {type: TYPE, ...})");
      return out;
    }
    if (!node.isArray()) {
      problems.add("passes must be a list, found " + RecordBinder.describe(node));
      return out;
    }
    if (node.isEmpty()) {
      problems.add("passes must list at least one pass");
    }
    for (int i = 0; i < node.size(); i++) {
      String path = "passes[" + i + "]";
      JsonNode p = node.get(i);
      if (!p.isObject()) {
        problems.add(path + " must be a mapping with a type, found " + RecordBinder.describe(p));
        continue;
      }
      JsonNode t = p.get("type");
      if (t == null || !t.isTextual() || t.textValue().isBlank()) {
        problems.add(
            path
                + ".type is required (one of "
                + registry.types()
                + ")"
                + (t == null ? "" : ", found " + RecordBinder.describe(t)));
        continue;
      }
      String type = t.textValue();
      Optional<PassProvider<?>> provider = registry.find(type);
      if (provider.isEmpty()) {
        problems.add(registry.unknown(type, path + ".type"));
        continue;
      }
      PassConfig c = bindConfig(provider.get(), p, path);
      if (c != null) {
        out.add(new PassSpec(type, c));
      }
    }
    return out;
  }

  private <C extends PassConfig> PassConfig bindConfig(
      PassProvider<C> provider, JsonNode node, String path) {
    Class<C> type = provider.configType();
    if (!type.isRecord()) {
      problems.add(path + ": config " + type.getName() + " of pass is not a record");
      return null;
    }
    return bindRecord(type, provider.defaults(), node, path);
  }

  @SuppressWarnings("unchecked")
  private <C> C bindRecord(Class<C> type, C defaults, JsonNode node, String path) {
    return (C)
        RecordBinder.bind(
            (Class<Record>) type.asSubclass(Record.class),
            (Record) defaults,
            node,
            path,
            Set.of(),
            Set.of("type"),
            problems);
  }
}
