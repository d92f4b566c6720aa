package dev.compress.cli;

import dev.compress.api.ConfigException;
import dev.compress.api.pipeline.PassRegistry;
import dev.compress.api.pipeline.PipelineSpec;
import dev.compress.api.pipeline.Presets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pipeline of {@code run}/{@code validate}: a YAML file, a {@code --scheme} preset, or both
 * (the file's keys laid over the preset's, as a {@code preset:} key in the file would; {@code
 * --scheme} replaces a {@code preset:} the file names). {@code --model} goes into the tree before
 * binding, so a scheme alone needs no file.
 */
final class PipelineInput {
  private PipelineInput() {}

  static PipelineSpec load(
      Path pipeline,
      String scheme,
      String model,
      PassRegistry registry,
      List<String> sets,
      Path outputDir,
      boolean overwrite)
      throws ConfigException, IOException {
    if (scheme == null) {
      if (pipeline == null) {
        throw new ConfigException("give a PIPELINE file or --scheme NAME");
      }
      return PipelineSpec.load(pipeline, registry, sets, outputDir, overwrite);
    }
    Presets.check(scheme, "--scheme");
    Map<String, Object> data = new LinkedHashMap<>();
    if (pipeline != null) {
      Object file = PipelineSpec.readYaml(pipeline);
      if (!(file instanceof Map<?, ?> m)) {
        // not a mapping: the binder says what is wrong with it, naming the file's content
        return PipelineSpec.load(pipeline, registry, sets, outputDir, overwrite);
      }
      m.forEach((k, v) -> data.put(String.valueOf(k), v));
    }
    data.put(Presets.KEY, scheme);
    if (model != null) {
      data.put("model", model);
    }
    return PipelineSpec.fromData(data, registry, sets, outputDir, overwrite);
  }

  /** How the pipeline is named in messages: the file, the scheme, or both. */
  static String describe(Path pipeline, String scheme) {
    if (scheme == null) {
      return String.valueOf(pipeline);
    }
    return pipeline == null ? "scheme " + scheme : pipeline + " (scheme " + scheme + ")";
  }
}
