package dev.compress.api.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Named pipelines for the common recipes ({@code preset: w8a8} in a pipeline YAML, {@code --scheme
 * w8a8} on the CLI). A preset is data: a pipeline YAML resource in {@code
 * dev/compress/api/pipeline/presets/} with everything but the {@code model}, so this module knows
 * no pass class (the passes are bound through the {@link PassRegistry} like any other YAML).
 *
 * <p>Expansion: the preset's tree is the base and the keys written beside {@code preset} are laid
 * over it, mapping by mapping: a mapping given beside it ({@code calibration: {samples: 32}})
 * changes only the keys it names; any other value (a scalar, a list such as {@code passes}, a whole
 * block) replaces the preset's; {@code null} removes the preset's key ({@code evaluate: null}).
 * {@code --set} overrides apply after the expansion, so {@code passes[1].observer} names the
 * preset's second pass. {@link PipelineSpec#toYaml()} of the result is the expanded pipeline
 * ({@code compress validate --resolved}); it has no {@code preset} key.
 */
public final class Presets {
  private Presets() {}

  /** The top-level key that names a preset. */
  public static final String KEY = "preset";

  /** The presets, in the order they are listed. */
  public static final List<String> NAMES = List.of("w8a8", "w8a8-dynamic", "w4a16", "fp8", "edge");

  /**
   * The YAML text of a preset.
   *
   * @throws ConfigException for an unknown name (one line listing the known ones)
   */
  public static String yaml(String name) throws ConfigException {
    check(name, KEY);
    try (InputStream in = Presets.class.getResourceAsStream("presets/" + name + ".yaml")) {
      if (in == null) {
        throw new IllegalStateException("preset resource missing: presets/" + name + ".yaml");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Refuses a name that is no preset: one line, {@code KEY: unknown scheme 'w8a9'; did you mean
   * 'w8a8'? known: [w8a8, ...]}.
   *
   * @param what the key or option that gave the name, for the message ({@code preset}, {@code
   *     --scheme})
   */
  public static void check(String name, String what) throws ConfigException {
    if (!NAMES.contains(name)) {
      throw new ConfigException(
          what
              + ": unknown scheme '"
              + name
              + "'"
              + DidYouMean.nearest(name, NAMES).map(n -> "; did you mean '" + n + "'?").orElse("")
              + "; known: "
              + NAMES);
    }
  }

  /** The tree of {@code root} with its {@code preset} expanded (the same tree when it has none). */
  static JsonNode expand(JsonNode root) throws ConfigException {
    if (!(root instanceof ObjectNode o) || !o.has(KEY)) {
      return root;
    }
    JsonNode name = o.get(KEY);
    if (!name.isTextual()) {
      throw new ConfigException(
          KEY + " must be one of " + NAMES + ", found " + RecordBinder.describe(name));
    }
    String yaml = yaml(name.textValue());
    ObjectNode base = (ObjectNode) PipelineYaml.read(yaml, "preset " + name.textValue());
    ObjectNode over = o.deepCopy();
    over.remove(KEY);
    lay(base, over);
    return base;
  }

  /** Lays {@code over} onto {@code base}, mapping by mapping (see the class comment). */
  private static void lay(ObjectNode base, ObjectNode over) {
    for (Iterator<Map.Entry<String, JsonNode>> it = over.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      JsonNode b = base.get(e.getKey());
      if (v.isNull()) {
        base.remove(e.getKey());
      } else if (v instanceof ObjectNode vo && b instanceof ObjectNode bo) {
        lay(bo, vo);
      } else {
        base.set(e.getKey(), v);
      }
    }
  }
}
