package dev.compress.api.pipeline;

import dev.compress.api.CompressionException;
import dev.compress.api.ConfigException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.ModelFiles;
import dev.compress.api.io.hf.HfCheckpoint;
import dev.compress.api.io.hf.HfFolderReader;
import dev.compress.api.io.hf.HfFolderWriter;
import java.io.IOException;
import java.nio.file.Path;

/** The pipeline's {@code output: {format: hf}}: the compressed decoder as a Hugging Face folder. */
final class HfOutput {
  private HfOutput() {}

  /** Checks, at plan time, that an {@code hf} output has what it needs; empty when it does. */
  static java.util.List<String> problems(PipelineSpec spec) {
    java.util.List<String> p = new java.util.ArrayList<>();
    boolean folder = HfFolderReader.isHfFolder(Path.of(spec.model()));
    if (!spec.output().format().equals("hf")) {
      return p;
    }
    if (!folder) {
      p.add(
          "output.format hf needs a Hugging Face folder as model (a directory with config.json),"
              + " found '"
              + spec.model()
              + "'");
    }
    return p;
  }

  /**
   * Writes the folder into {@code dir} from the source folder the model was read from; returns the
   * weight file that identifies the output ({@code model.safetensors} or the shard index).
   */
  static Path write(PipelineSpec spec, ModelFiles.Loaded loaded, ModelGraph model, Path dir)
      throws IOException, CompressionException {
    java.util.List<String> p = problems(spec);
    if (!p.isEmpty()) {
      throw new ConfigException(p);
    }
    HfCheckpoint source = HfFolderReader.read(loaded.path().getParent());
    HfFolderWriter.writeInto(source, model, dir);
    return dir.resolve(source.sharded() ? HfFolderReader.INDEX : HfFolderReader.WEIGHTS);
  }
}
