package dev.compress.api.io.hf;

import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * A Hugging Face checkpoint folder as read by {@link HfFolderReader}: its config, its tensors
 * (memory-mapped slices of the safetensors files, in their own dtype) and where each came from.
 *
 * @param folder the folder
 * @param config {@code config.json}
 * @param dtype the element type of the weights (f32, f16 or bf16; every float weight has it)
 * @param tensors every tensor of every weight file by name, in file then byte order (unmodifiable)
 * @param weightFiles for each tensor, the weight file holding it ({@code model.safetensors} or a
 *     shard name) (unmodifiable)
 * @param fileMetadata each weight file's {@code __metadata__} strings, by file name (unmodifiable)
 * @param sharded whether the weights came through {@code model.safetensors.index.json}
 * @param indexMetadata the index's {@code metadata} object as strings (empty when unsharded)
 * @param tokenizer {@code tokenizer.json}, when the folder has one
 * @param generationConfig {@code generation_config.json}, when the folder has one
 */
public record HfCheckpoint(
    Path folder,
    HfConfig config,
    DataType dtype,
    Map<String, Tensor> tensors,
    Map<String, String> weightFiles,
    Map<String, Map<String, String>> fileMetadata,
    boolean sharded,
    Map<String, String> indexMetadata,
    Optional<Path> tokenizer,
    Optional<Path> generationConfig) {

  /** Copies the maps, keeping their order. */
  public HfCheckpoint {
    tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    weightFiles = Collections.unmodifiableMap(new LinkedHashMap<>(weightFiles));
    fileMetadata = Collections.unmodifiableMap(new LinkedHashMap<>(fileMetadata));
    indexMetadata = Collections.unmodifiableMap(new LinkedHashMap<>(indexMetadata));
  }

  /**
   * The tensor called {@code name}.
   *
   * @throws NoSuchElementException naming the folder and the tensor
   */
  public Tensor tensor(String name) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new NoSuchElementException(folder + ": no tensor '" + name + "'");
    }
    return t;
  }
}
