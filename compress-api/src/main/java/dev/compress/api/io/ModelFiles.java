package dev.compress.api.io;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.onnx.OnnxReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Opens a model given as a path or {@code builtin:NAME}. */
public final class ModelFiles {
  private ModelFiles() {}

  /**
   * A model and the files it was read from.
   *
   * @param path the resolved file
   * @param model the model
   * @param externalDataFiles the ONNX external-data files its tensors were read from (absolute;
   *     empty for a self-contained model)
   */
  public record Loaded(Path path, ModelGraph model, List<Path> externalDataFiles) {
    /** Copies the list. */
    public Loaded {
      externalDataFiles = List.copyOf(externalDataFiles);
    }

    /** A model read from one self-contained file. */
    public Loaded(Path path, ModelGraph model) {
      this(path, model, List.of());
    }
  }

  /**
   * Resolves and reads a model.
   *
   * @throws NoSuchFileException when the path does not exist
   * @throws CompressionException for an unknown built-in name, an unsupported format or a corrupt
   *     file
   */
  public static Loaded load(String spec) throws IOException, CompressionException {
    Path p = BuiltinModels.resolve(spec);
    if (!Files.exists(p)) {
      throw new NoSuchFileException(p.toString());
    }
    if (Files.isDirectory(p)) {
      throw new CompressionException(p + " is a directory, not a model file");
    }
    String n = p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    if (n.endsWith(".safetensors")) {
      throw new CompressionException(
          p
              + ": a safetensors file holds weights without a graph; give the .onnx model (HINT:"
              + " graphs come from ONNX exports)");
    }
    Set<Path> external = new LinkedHashSet<>();
    ModelGraph model = OnnxReader.read(p, external);
    return new Loaded(p, model, List.copyOf(external));
  }
}
