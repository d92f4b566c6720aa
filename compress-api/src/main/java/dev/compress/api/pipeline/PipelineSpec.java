package dev.compress.api.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.ConfigException;
import dev.compress.api.calibration.CalibrationSpec;
import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.PassProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A compression pipeline: which model, optional calibration data, the ordered passes, an optional
 * evaluation and where the output goes. Read from YAML ({@link #load}, {@link #fromYaml}) or built
 * in Java ({@link #builder()}); both give equal specs for the same content.
 *
 * <pre>{@code
 * apiVersion: compress/v1
 * kind: Pipeline
 * model: builtin:all-minilm-l6-v2      # or a path to an .onnx file
 * preset: w8a8                         # optional: start from a named pipeline ({@link Presets})
 * seed: 0                              # optional, default 0
 * device: cpu                          # optional: cpu (default), gpu or auto; where passes run
 * calibration:                         # optional; keys of CalibrationSpec
 *   source: calibration.txt
 *   samples: 64
 * passes:
 *   - type: rtn-quantization           # a registered pass type
 *     targets: ["re:.*MatMul"]         # optional: layer names or re:REGEX
 *     ignore: []
 *     bits: 8                          # the pass's own parameters (its config record components)
 * evaluate:                            # optional; keys of EvaluateSpec
 *   data: builtin:sentences
 *   gates: {cosine.min: ">= 0.98"}
 * output:
 *   dir: out/minilm-int8
 *   overwrite: false                   # optional
 * }</pre>
 *
 * <p>YAML is bound strictly: unknown keys, wrong types and out-of-range values are all reported
 * together in one {@link ConfigException}, each naming its key path ({@code passes[0].bits}; list
 * indexes count from 0) and the value found. Keys not given take the pass's {@link
 * PassProvider#defaults()}. {@link #toMap()}/{@link #toYaml()} give the fully resolved spec (every
 * default filled in), which reads back to an equal spec. Relative paths ({@code model}, {@code
 * output.dir}) are relative to the working directory of the run, not to the YAML file.
 *
 * @param apiVersion always {@link #API_VERSION}
 * @param kind always {@link #KIND}
 * @param model a model file path or {@code builtin:NAME}
 * @param calibration the calibration block, if any
 * @param passes the passes, applied in order (at least one)
 * @param evaluate the evaluation block, if any
 * @param output where the result is written
 * @param seed the seed of every random choice (default 0)
 * @param device where the passes run the model (calibration, GPTQ/AWQ, pruning, low-rank,
 *     training): {@code cpu} (default), {@code gpu} (refused when the engine finds no GPU) or
 *     {@code auto} (the GPU when the engine finds one, else the CPU; the manifest records which).
 *     Evaluation has its own {@code evaluate.device}.
 */
public record PipelineSpec(
    String apiVersion,
    String kind,
    String model,
    Optional<CalibrationSpec> calibration,
    List<PassSpec> passes,
    Optional<EvaluateSpec> evaluate,
    Output output,
    long seed,
    String device) {

  /** The values of {@code device}. */
  public static final List<String> DEVICES = List.of("cpu", "gpu", "auto");

  /** The only supported {@code apiVersion}. */
  public static final String API_VERSION = "compress/v1";

  /** The only supported {@code kind}. */
  public static final String KIND = "Pipeline";

  /**
   * One pass of a pipeline.
   *
   * @param type the registered pass type, e.g. {@code rtn-quantization}
   * @param config its validated config record
   */
  public record PassSpec(String type, PassConfig config) {
    /** Checks both are present. */
    public PassSpec {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(config, "config");
    }
  }

  /**
   * The {@code output} block.
   *
   * @param dir the output directory (created; holds {@code model.onnx}, {@code manifest.json},
   *     {@code report.json})
   * @param overwrite whether an existing {@code dir} is replaced
   * @param format {@code onnx} (default: {@code model.onnx}), {@code hf} (a Hugging Face folder in
   *     {@code dir}, unquantized, for a model read from one) or a format another module registers
   *     ({@link OutputFormat}, e.g. {@code hf-gptq})
   */
  public record Output(Path dir, boolean overwrite, String format) {
    /** The built-in output formats ({@link OutputFormat#names} adds the registered ones). */
    public static final List<String> FORMATS = OutputFormat.BUILT_IN;

    /** Validates the directory and format. */
    public Output {
      if (dir == null || dir.toString().isBlank()) {
        throw new InvalidConfigException(List.of("dir is required"));
      }
      format = format == null ? "onnx" : format;
      List<String> names = FORMATS.contains(format) ? FORMATS : OutputFormat.names();
      if (!names.contains(format)) {
        throw new InvalidConfigException(
            List.of("format must be one of " + names + ", found '" + format + "'"));
      }
    }

    /** An ONNX output. */
    public Output(Path dir, boolean overwrite) {
      this(dir, overwrite, "onnx");
    }
  }

  /** Validates the pipeline as a whole (each block validated itself at construction). */
  public PipelineSpec {
    calibration = calibration == null ? Optional.empty() : calibration;
    evaluate = evaluate == null ? Optional.empty() : evaluate;
    passes = passes == null ? List.of() : List.copyOf(passes);
    List<String> p = new ArrayList<>();
    if (!API_VERSION.equals(apiVersion)) {
      p.add("apiVersion must be " + API_VERSION + ", found " + quote(apiVersion));
    }
    if (!KIND.equals(kind)) {
      p.add("kind must be " + KIND + ", found " + quote(kind));
    }
    if (model == null || model.isBlank()) {
      p.add("model is required (a path to an .onnx file or builtin:NAME)");
    }
    if (passes.isEmpty()) {
      p.add("passes must list at least one pass");
    }
    if (output == null) {
      p.add("output.dir is required");
    }
    if (device != null) {
      deviceProblem(device).ifPresent(p::add);
    }
    device = device == null ? "cpu" : device.toLowerCase(Locale.ROOT);
    InvalidConfigException.throwIfAny(p);
  }

  /**
   * What is wrong with a {@code device} value, if anything: one line naming the key, the values
   * and, for a near miss, the one meant.
   */
  static Optional<String> deviceProblem(String device) {
    String d = device.toLowerCase(Locale.ROOT);
    if (DEVICES.contains(d)) {
      return Optional.empty();
    }
    return Optional.of(
        "device must be one of "
            + DEVICES
            + ", found '"
            + device
            + "'"
            + DidYouMean.nearest(d, DEVICES).map(n -> "; did you mean '" + n + "'?").orElse(""));
  }

  private static String quote(String s) {
    return s == null ? "nothing" : "'" + s + "'";
  }

  /** A builder with {@code apiVersion}/{@code kind} set and seed 0. */
  public static Builder builder() {
    return new Builder();
  }

  /** This spec with another output block. */
  public PipelineSpec withOutput(Output newOutput) {
    return new PipelineSpec(
        apiVersion, kind, model, calibration, passes, evaluate, newOutput, seed, device);
  }

  /** This spec without its {@code evaluate} block (the CLI's {@code run --no-evaluate}). */
  public PipelineSpec withoutEvaluate() {
    return new PipelineSpec(
        apiVersion, kind, model, calibration, passes, Optional.empty(), output, seed, device);
  }

  /** This spec reading another model (a path or {@code builtin:NAME}). */
  public PipelineSpec withModel(String newModel) {
    return new PipelineSpec(
        apiVersion, kind, newModel, calibration, passes, evaluate, output, seed, device);
  }

  /** This spec with another {@code device} ({@code cpu}, {@code gpu}, {@code auto}). */
  public PipelineSpec withDevice(String newDevice) {
    return new PipelineSpec(
        apiVersion, kind, model, calibration, passes, evaluate, output, seed, newDevice);
  }

  // ---- YAML ----

  /** Reads a pipeline YAML file with the passes found through {@link PassRegistry#load()}. */
  public static PipelineSpec load(Path yaml) throws ConfigException, IOException {
    return load(yaml, PassRegistry.load());
  }

  /**
   * Reads a pipeline YAML file.
   *
   * @throws ConfigException listing every problem in the file (also for a missing file); a YAML
   *     syntax error is one line {@code FILE:LINE:COLUMN: problem} followed by the source line and
   *     a caret
   * @throws IOException when the file exists but cannot be read
   */
  public static PipelineSpec load(Path yaml, PassRegistry registry)
      throws ConfigException, IOException {
    return load(yaml, registry, List.of(), null, false);
  }

  /**
   * Reads a pipeline YAML file with its output directory given by the caller (e.g. {@code run
   * --output DIR}): {@code output.dir} is set to {@code outputDir}, so the file's {@code output}
   * block may be missing; {@code output.overwrite} is set to true when {@code overwrite}, else kept
   * as the file says.
   *
   * @param outputDir the output directory; null to use the file's {@code output} block as it is
   * @throws ConfigException listing every problem in the file (also for a missing file)
   * @throws IOException when the file exists but cannot be read
   */
  public static PipelineSpec load(
      Path yaml, PassRegistry registry, Path outputDir, boolean overwrite)
      throws ConfigException, IOException {
    return load(yaml, registry, List.of(), outputDir, overwrite);
  }

  /**
   * Reads a pipeline YAML file and applies {@code KEY=VALUE} overrides to it before binding (the
   * CLI's {@code run --set}); see {@link #withOverrides} for the syntax.
   *
   * @throws ConfigException listing every problem; one about an override names it ({@code --set
   *     passes[1].obsrver=minmax: passes[1].obsrver: unknown key; did you mean 'observer'?})
   * @throws IOException when the file exists but cannot be read
   */
  public static PipelineSpec load(Path yaml, PassRegistry registry, List<String> overrides)
      throws ConfigException, IOException {
    return load(yaml, registry, overrides, null, false);
  }

  /**
   * Reads a pipeline YAML file, applies {@code KEY=VALUE} overrides (see {@link #withOverrides}),
   * then the caller's output directory (as {@link #load(Path, PassRegistry, Path, boolean)}; it
   * wins over an override of {@code output.dir}), and binds the result.
   *
   * @param overrides {@code KEY=VALUE} strings, applied in order
   * @param outputDir the output directory; null to use the file's {@code output} block
   * @param overwrite set {@code output.overwrite} to true (else keep the file's)
   * @throws ConfigException listing every problem; one about an override names it
   * @throws IOException when the file exists but cannot be read
   */
  public static PipelineSpec load(
      Path yaml, PassRegistry registry, List<String> overrides, Path outputDir, boolean overwrite)
      throws ConfigException, IOException {
    return bind(readTree(yaml), registry, overrides, outputDir, overwrite);
  }

  /**
   * Binds plain data (as {@link #readYaml} gives it, e.g. with a {@code preset} key added) as
   * {@link #load(Path, PassRegistry, List, Path, boolean)} binds a file: overrides, then the
   * caller's output directory.
   *
   * @throws ConfigException listing every problem; one about an override names it
   */
  public static PipelineSpec fromData(
      Map<String, ?> data,
      PassRegistry registry,
      List<String> overrides,
      Path outputDir,
      boolean overwrite)
      throws ConfigException {
    return bind(SpecBinder.YAML.valueToTree(data), registry, overrides, outputDir, overwrite);
  }

  private static PipelineSpec bind(
      JsonNode tree,
      PassRegistry registry,
      List<String> overrides,
      Path outputDir,
      boolean overwrite)
      throws ConfigException {
    return SpecOverrides.bind(
        tree,
        registry,
        overrides,
        root -> {
          if (outputDir != null) {
            ObjectNode out =
                root.get("output") instanceof ObjectNode given ? given : root.putObject("output");
            out.put("dir", outputDir.toString());
            if (overwrite) {
              out.put("overwrite", true);
            }
          }
        });
  }

  /**
   * Reads a YAML file into plain data (maps, lists, strings, numbers, booleans, nulls), the way
   * {@link #load} does: aliases ({@code *name}) expanded with a bound on the expansion, merge keys
   * ({@code <<: *base}) applied, duplicate keys refused. A caller may change it (e.g. add an {@code
   * output} block) and bind it with {@link #fromData}.
   *
   * @throws ConfigException for a missing file or invalid YAML, naming the file, line and column
   * @throws IOException when the file exists but cannot be read
   */
  public static Object readYaml(Path yaml) throws ConfigException, IOException {
    return SpecBinder.YAML.convertValue(readTree(yaml), Object.class);
  }

  /** {@link #readYaml} as the binder's tree. */
  static JsonNode readTree(Path yaml) throws ConfigException, IOException {
    String text;
    try {
      text = Files.readString(yaml, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException("no such pipeline file: " + yaml);
    } catch (MalformedInputException e) {
      throw new ConfigException(yaml + ": not a UTF-8 text file");
    }
    return PipelineYaml.read(text, yaml.toString());
  }

  /** Parses pipeline YAML with the passes found through {@link PassRegistry#load()}. */
  public static PipelineSpec fromYaml(String yaml) throws ConfigException {
    return fromYaml(yaml, PassRegistry.load());
  }

  /**
   * Parses pipeline YAML (aliases, merge keys and errors as in {@link #load}; messages name the
   * source {@code <yaml>}).
   *
   * @throws ConfigException listing every problem, each naming its key path and the value found
   */
  public static PipelineSpec fromYaml(String yaml, PassRegistry registry) throws ConfigException {
    return fromTree(PipelineYaml.read(yaml, "<yaml>"), registry);
  }

  /**
   * Binds plain data (maps with string keys, lists, strings, numbers, booleans, nulls), as {@link
   * #readYaml} or {@link #toMap()} give it, with the same checks as a YAML file.
   *
   * @throws ConfigException listing every problem, each naming its key path and the value found
   */
  public static PipelineSpec fromData(Map<String, ?> data, PassRegistry registry)
      throws ConfigException {
    return fromTree(SpecBinder.YAML.valueToTree(data), registry);
  }

  /**
   * Binds plain data after applying {@code KEY=VALUE} overrides to a copy of it (see {@link
   * #withOverrides}).
   *
   * @throws ConfigException listing every problem; those caused by an override name it
   */
  public static PipelineSpec fromData(
      Map<String, ?> data, PassRegistry registry, List<String> overrides) throws ConfigException {
    return SpecOverrides.bind(SpecBinder.YAML.valueToTree(data), registry, overrides, root -> {});
  }

  /** Binds an already-parsed tree (YAML or JSON, e.g. the {@code pipeline} of a manifest). */
  static PipelineSpec fromTree(JsonNode tree, PassRegistry registry) throws ConfigException {
    return new SpecBinder(registry).bind(Presets.expand(tree));
  }

  /**
   * This spec with {@code KEY=VALUE} overrides applied to its resolved form ({@link #toMap()}),
   * bound again with the same checks as a YAML file.
   *
   * <p>{@code KEY} is a path into the pipeline: names separated by dots, list entries by {@code
   * [INDEX]} (from 0): {@code seed}, {@code calibration.samples}, {@code passes[1].observer},
   * {@code evaluate.latencyBatchSizes}, {@code output.dir}. Below a key that holds a mapping of
   * free-form names ({@code evaluate.gates}) the rest of the path is one name, dots included:
   * {@code evaluate.gates.cosine.mean}; {@code evaluate.gates["cosine.mean"]} says the same
   * explicitly. A path must exist in the schema (a pass's keys are those of its type); missing
   * blocks ({@code calibration}, {@code evaluate}) are created; list indexes must exist.
   *
   * <p>{@code VALUE} is read as YAML: a scalar ({@code 3}, {@code true}, {@code 0.5}) or a flow
   * collection ({@code [1, 32]}, {@code {type: gptq, bits: 4}}); {@code null} removes an optional
   * block ({@code evaluate=null}). Where the key takes a string (a name, a path, a gate bound), the
   * value is taken as written ({@code >= 0.99} needs no quotes); quote it ({@code '...'}) for YAML
   * escapes. Where the key takes a list, one scalar is a list of one. Later overrides apply on top
   * of earlier ones.
   *
   * @param overrides {@code KEY=VALUE} strings, applied in order
   * @param registry the passes (for the keys of each pass type)
   * @throws ConfigException listing every problem; one about an override names it ({@code --set
   *     KEY=VALUE: ...})
   */
  public PipelineSpec withOverrides(List<String> overrides, PassRegistry registry)
      throws ConfigException {
    if (overrides.isEmpty()) {
      return this;
    }
    return SpecOverrides.bind(SpecBinder.YAML.valueToTree(toMap()), registry, overrides, r -> {});
  }

  /**
   * The fully resolved spec as plain data (maps, lists, strings, numbers, booleans) in a stable key
   * order: {@code apiVersion, kind, model, seed, device, calibration?, passes, evaluate?, output}.
   * Each pass lists {@code type}, then every parameter of its config (with {@code targets}/{@code
   * ignore} in place of the selection). Enum values are written lower-case with hyphens.
   */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("apiVersion", apiVersion);
    m.put("kind", kind);
    m.put("model", model);
    m.put("seed", seed);
    m.put("device", device);
    calibration.ifPresent(c -> m.put("calibration", RecordBinder.toMap(c)));
    List<Map<String, Object>> ps = new ArrayList<>();
    for (PassSpec p : passes) {
      Map<String, Object> pm = new LinkedHashMap<>();
      pm.put("type", p.type());
      if (!(p.config() instanceof Record r)) {
        throw new IllegalStateException(
            "pass config " + p.config().getClass().getName() + " is not a record");
      }
      pm.putAll(RecordBinder.toMap(r));
      ps.add(pm);
    }
    m.put("passes", ps);
    evaluate.ifPresent(e -> m.put("evaluate", RecordBinder.toMap(e)));
    m.put("output", RecordBinder.toMap(output));
    return m;
  }

  /** {@link #toMap()} as YAML; {@link #fromYaml} reads it back to an equal spec. */
  public String toYaml() {
    try {
      return SpecBinder.YAML.writeValueAsString(toMap());
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- builder ----

  /**
   * Builds a {@link PipelineSpec} in Java, with the same content a YAML file gives:
   *
   * <pre>{@code
   * PipelineSpec spec = PipelineSpec.builder()
   *     .model("builtin:all-minilm-l6-v2")
   *     .pass(RtnConfig.builder().bits(8).build())
   *     .output(Path.of("out/minilm-int8"))
   *     .build();
   * }</pre>
   *
   * A pass's type is looked up from its config class in the registry ({@link PassRegistry#load()}
   * unless {@link #registry} is given), or given with {@link #pass(String, PassConfig)}. Not
   * thread-safe.
   */
  public static final class Builder {
    private String model;
    private CalibrationSpec calibration;
    private final List<Object[]> passes = new ArrayList<>();
    private EvaluateSpec evaluate;
    private Output output;
    private long seed;
    private String device = "cpu";
    private PassRegistry registry;

    private Builder() {}

    /** The model: a path to an {@code .onnx} file or {@code builtin:NAME} (required). */
    public Builder model(String modelSpec) {
      this.model = modelSpec;
      return this;
    }

    /** The model file (required unless {@link #model(String)} is used). */
    public Builder model(Path modelFile) {
      this.model = modelFile.toString();
      return this;
    }

    /** Calibration data for passes that need it. */
    public Builder calibration(CalibrationSpec spec) {
      this.calibration = spec;
      return this;
    }

    /** Appends a pass; its type is the registered provider of the config's class. */
    public Builder pass(PassConfig config) {
      passes.add(new Object[] {null, Objects.requireNonNull(config, "config")});
      return this;
    }

    /** Appends a pass of the given type. */
    public Builder pass(String type, PassConfig config) {
      passes.add(
          new Object[] {Objects.requireNonNull(type, "type"), Objects.requireNonNull(config)});
      return this;
    }

    /** Evaluates the compressed model against the original. */
    public Builder evaluate(EvaluateSpec spec) {
      this.evaluate = spec;
      return this;
    }

    /** The output directory, not replaced when it exists (required). */
    public Builder output(Path dir) {
      return output(dir, false);
    }

    /** The output directory and whether an existing one is replaced (required). */
    public Builder output(Path dir, boolean overwrite) {
      this.output = new Output(dir, overwrite);
      return this;
    }

    /** The seed (default 0). */
    public Builder seed(long s) {
      this.seed = s;
      return this;
    }

    /** Where the passes run: {@code cpu} (default), {@code gpu} or {@code auto}. */
    public Builder device(String d) {
      this.device = d;
      return this;
    }

    /**
     * The registry that maps config classes to pass types (default {@link PassRegistry#load()}).
     */
    public Builder registry(PassRegistry r) {
      this.registry = r;
      return this;
    }

    /**
     * The spec.
     *
     * @throws InvalidConfigException when a required part is missing or a pass config's class has
     *     no registered provider
     */
    public PipelineSpec build() {
      List<PassSpec> ps = new ArrayList<>();
      List<String> problems = new ArrayList<>();
      for (int i = 0; i < passes.size(); i++) {
        String type = (String) passes.get(i)[0];
        PassConfig config = (PassConfig) passes.get(i)[1];
        if (type == null) {
          if (registry == null) {
            registry = PassRegistry.load();
          }
          Optional<PassProvider<?>> p = registry.forConfig(config);
          if (p.isEmpty()) {
            problems.add(
                "passes["
                    + i
                    + "]: no registered pass takes "
                    + config.getClass().getName()
                    + "; known: "
                    + registry.types());
            continue;
          }
          type = p.get().type();
        }
        ps.add(new PassSpec(type, config));
      }
      InvalidConfigException.throwIfAny(problems);
      return new PipelineSpec(
          API_VERSION,
          KIND,
          model,
          Optional.ofNullable(calibration),
          ps,
          Optional.ofNullable(evaluate),
          output,
          seed,
          device);
    }
  }
}
