package dev.compress.api.io;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.FloatPrecision;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.io.hf.DecoderGraph;
import dev.compress.api.io.hf.HfCheckpoint;
import dev.compress.api.io.hf.HfFolderReader;
import dev.compress.api.io.onnx.OnnxReader;
import dev.compress.api.tensor.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
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
   * @param notes what the reader repaired, one line each (nodes sorted into topological order)
   */
  public record Loaded(
      Path path, ModelGraph model, List<Path> externalDataFiles, List<String> notes) {
    /** Copies the lists. */
    public Loaded {
      externalDataFiles = List.copyOf(externalDataFiles);
      notes = List.copyOf(notes);
    }

    /** A model read from one self-contained file, without notes. */
    public Loaded(Path path, ModelGraph model) {
      this(path, model, List.of(), List.of());
    }
  }

  /**
   * Resolves and reads a model: an ONNX file, {@code builtin:NAME}, or a Hugging Face decoder
   * folder (see {@link HfFolderReader}; {@link Loaded#path} is then its {@code model.safetensors}
   * or shard index, so the tokenizer and config sit beside it).
   *
   * @throws NoSuchFileException when the path does not exist
   * @throws CompressionException for an unknown built-in name, a directory or other non-regular
   *     file (a FIFO), an unsupported format, or a corrupt file (including a structurally invalid
   *     graph, see {@link dev.compress.api.graph.GraphCheck})
   */
  public static Loaded load(String spec) throws IOException, CompressionException {
    Path p = BuiltinModels.resolve(spec);
    if (!Files.exists(p)) {
      throw new NoSuchFileException(p.toString());
    }
    if (HfFolderReader.isHfFolder(p)) {
      HfCheckpoint ck = HfFolderReader.read(p);
      Path weights = p.resolve(ck.sharded() ? HfFolderReader.INDEX : HfFolderReader.WEIGHTS);
      List<Path> shards =
          ck.sharded()
              ? ck.weightFiles().values().stream().distinct().map(p::resolve).toList()
              : List.of();
      ModelGraph g = DecoderGraph.build(ck);
      String widened = "";
      if (ck.dtype() == DataType.BFLOAT16) {
        // DJL's PyTorch engine aborts the JVM on bf16 and ONNX Runtime's CPU has no bf16 kernels.
        g = FloatPrecision.widened(g);
        widened = "; bf16 weights widened to f32 for computing (written back as bf16)";
      }
      return new Loaded(
          weights,
          g,
          shards,
          List.of(
              "read Hugging Face folder "
                  + p
                  + " ("
                  + ck.config().architectureName()
                  + ", "
                  + ck.dtype()
                  + ", "
                  + ck.tensors().size()
                  + " tensors"
                  + widened
                  + ")"));
    }
    if (Files.isDirectory(p)) {
      throw new CompressionException(
          p + " is a directory, not a model file (a Hugging Face folder needs a config.json)");
    }

    String n = p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    if (n.endsWith(".safetensors")) {
      throw new CompressionException(
          p
              + ": a safetensors file holds weights without a graph; give the .onnx model (HINT:"
              + " graphs come from ONNX exports)");
    }
    Set<Path> external = new LinkedHashSet<>();
    List<String> notes = new ArrayList<>();
    ModelGraph model = OnnxReader.read(p, external, notes::add);
    return new Loaded(p, model, List.copyOf(external), notes);
  }
}
