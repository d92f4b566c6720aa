package dev.compress.api.pipeline;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * An output format a module adds to the pipeline's {@code output: {format: NAME}}, found through
 * {@link ServiceLoader} ({@code META-INF/services/dev.compress.api.pipeline.OutputFormat}). {@code
 * onnx} and {@code hf} are built in; e.g. the quantization module registers {@code hf-gptq}.
 */
public interface OutputFormat {
  /** The built-in format names. */
  List<String> BUILT_IN = List.of("onnx", "hf");

  /** The value of {@code output.format} that selects this format. */
  String name();

  /**
   * What makes {@code spec} unwritable in this format, found at plan time (one line each, naming
   * the key); empty when nothing does.
   */
  List<String> problems(PipelineSpec spec);

  /**
   * Writes {@code model} into {@code dir} (an existing, empty staging directory) and returns the
   * file that identifies the output (hashed into the manifest).
   *
   * @param spec the pipeline
   * @param model the compressed model
   * @param source the file or folder the model was read from ({@code spec.model()} resolved)
   * @param dir where to write
   * @throws CompressionException when the model cannot be written in this format (before anything
   *     is written where it can be found out then)
   */
  Path write(PipelineSpec spec, ModelGraph model, Path source, Path dir)
      throws IOException, CompressionException;

  /** The formats on the class path, built-in ones excluded. */
  static List<OutputFormat> installed() {
    List<OutputFormat> out = new ArrayList<>();
    for (OutputFormat f :
        ServiceLoader.load(OutputFormat.class, OutputFormat.class.getClassLoader())) {
      if (!BUILT_IN.contains(f.name())) {
        out.add(f);
      }
    }
    return out;
  }

  /** Every format name {@code output.format} accepts: built in, then installed. */
  static List<String> names() {
    List<String> out = new ArrayList<>(BUILT_IN);
    for (OutputFormat f : installed()) {
      if (!out.contains(f.name())) {
        out.add(f.name());
      }
    }
    return out;
  }

  /** The installed format named {@code name}, or null. */
  static OutputFormat named(String name) {
    for (OutputFormat f : installed()) {
      if (f.name().equals(name)) {
        return f;
      }
    }
    return null;
  }
}
