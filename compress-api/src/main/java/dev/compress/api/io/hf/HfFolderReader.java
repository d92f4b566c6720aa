package dev.compress.api.io.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.compress.api.CompressionException;
import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.UnsupportedModelException;
import dev.compress.api.io.safetensors.SafetensorsFile;
import dev.compress.api.io.safetensors.SafetensorsReader;
import dev.compress.api.io.safetensors.SafetensorsReader.TensorHeader;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a Hugging Face checkpoint folder: {@code config.json}, the weights in {@code
 * model.safetensors} or in shards listed by {@code model.safetensors.index.json}, and where present
 * {@code tokenizer.json} and {@code generation_config.json}.
 *
 * <p>Everything is checked before any tensor is mapped: the config (architecture, sizes, rope
 * scaling), the index (every shard it names exists, is a plain file name, and holds exactly the
 * tensors the index assigns it), every safetensors header (see {@link SafetensorsReader}), and the
 * tensors the architecture needs (present, of the expected shape, all of one float dtype). Each
 * failure is one line naming the file and the key or tensor. Then every file is mapped read-only;
 * no weight is copied onto the heap.
 */
public final class HfFolderReader {
  /** The config file name. */
  public static final String CONFIG = "config.json";

  /** The single weight file. */
  public static final String WEIGHTS = "model.safetensors";

  /** The shard index. */
  public static final String INDEX = "model.safetensors.index.json";

  private HfFolderReader() {}

  /** Whether {@code path} looks like a Hugging Face folder (a directory with a config.json). */
  public static boolean isHfFolder(Path path) {
    return Files.isDirectory(path) && Files.isRegularFile(path.resolve(CONFIG));
  }

  /**
   * Reads {@code folder}.
   *
   * @throws UnsupportedModelException naming the file and key for an architecture or setting this
   *     toolkit does not compute, or a folder with PyTorch weights only
   * @throws CorruptCheckpointException naming the file and key or tensor for a missing shard or
   *     tensor, a wrong shape or dtype, or a malformed file
   * @throws IOException if a file cannot be read
   */
  public static HfCheckpoint read(Path folder) throws IOException, CompressionException {
    if (!Files.isDirectory(folder)) {
      throw new CompressionException(folder + " is not a directory (a Hugging Face folder)");
    }
    Path configFile = folder.resolve(CONFIG);
    if (!Files.isRegularFile(configFile)) {
      throw new CorruptCheckpointException(
          configFile, -1, "missing: a Hugging Face folder has one");
    }
    HfConfig config = HfConfig.read(configFile);

    Path index = folder.resolve(INDEX);
    Map<String, String> fileOf = new LinkedHashMap<>(); // tensor -> weight file
    Map<String, String> indexMetadata = new LinkedHashMap<>();
    Set<String> files = new LinkedHashSet<>();
    boolean sharded = Files.isRegularFile(index);
    if (sharded) {
      readIndex(index, fileOf, indexMetadata);
      files.addAll(fileOf.values());
    } else if (Files.isRegularFile(folder.resolve(WEIGHTS))) {
      files.add(WEIGHTS);
    } else {
      boolean bin =
          Files.exists(folder.resolve("pytorch_model.bin"))
              || Files.exists(folder.resolve("pytorch_model.bin.index.json"));
      throw new UnsupportedModelException(
          folder
              + ": no "
              + WEIGHTS
              + " and no "
              + INDEX
              + (bin
                  ? " (only PyTorch .bin weights, which are not read: HINT: convert them to"
                      + " safetensors)"
                  : ""));
    }

    // Headers of every file, validated, before anything is mapped.
    Map<String, TensorHeader> headers = new LinkedHashMap<>();
    for (String f : files) {
      Path p = folder.resolve(f);
      if (!Files.isRegularFile(p)) {
        throw new CorruptCheckpointException(
            index, -1, "weight_map names shard '" + f + "', which does not exist in " + folder);
      }
      for (TensorHeader h : SafetensorsReader.readHeader(p).values()) {
        if (sharded) {
          String assigned = fileOf.get(h.name());
          if (!f.equals(assigned)) {
            throw new CorruptCheckpointException(
                p,
                -1,
                "tensor '"
                    + h.name()
                    + "' is in this shard but "
                    + INDEX
                    + (assigned == null ? " does not list it" : " assigns it to " + assigned));
          }
        } else {
          fileOf.put(h.name(), f);
        }
        if (headers.put(h.name(), h) != null) {
          throw new CorruptCheckpointException(p, -1, "tensor '" + h.name() + "' appears twice");
        }
      }
    }
    for (Map.Entry<String, String> e : fileOf.entrySet()) {
      if (!headers.containsKey(e.getKey())) {
        throw new CorruptCheckpointException(
            folder.resolve(e.getValue()),
            -1,
            "tensor '" + e.getKey() + "' listed in " + INDEX + " is not in this shard");
      }
    }
    DataType dtype = checkTensors(folder, config, headers, fileOf, sharded);

    Map<String, Tensor> tensors = new LinkedHashMap<>();
    Map<String, Map<String, String>> fileMetadata = new LinkedHashMap<>();
    for (String f : files) {
      SafetensorsFile sf = SafetensorsReader.read(folder.resolve(f));
      tensors.putAll(sf.tensors());
      fileMetadata.put(f, sf.metadata());
    }
    Map<String, String> ordered = new LinkedHashMap<>();
    tensors.keySet().forEach(n -> ordered.put(n, fileOf.get(n)));
    return new HfCheckpoint(
        folder,
        config,
        dtype,
        tensors,
        ordered,
        fileMetadata,
        sharded,
        indexMetadata,
        optional(folder.resolve("tokenizer.json")),
        optional(folder.resolve("generation_config.json")));
  }

  private static Optional<Path> optional(Path p) {
    return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
  }

  private static void readIndex(
      Path index, Map<String, String> fileOf, Map<String, String> metadata)
      throws IOException, CorruptCheckpointException {
    JsonNode root;
    try {
      root = HfConfig.JSON.readTree(Files.readString(index));
    } catch (JsonProcessingException e) {
      throw new CorruptCheckpointException(
          index, -1, "not valid JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject() || map.isEmpty()) {
      throw new CorruptCheckpointException(
          index, -1, "key 'weight_map' must be a non-empty object of tensor name to shard file");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode f = e.getValue();
      String file = f.isTextual() ? f.asText() : "";
      if (file.isEmpty()
          || file.contains("/")
          || file.contains("\\")
          || file.equals("..")
          || file.equals(".")
          || !file.endsWith(".safetensors")) {
        throw new CorruptCheckpointException(
            index,
            -1,
            "weight_map['"
                + e.getKey()
                + "'] must be a .safetensors file name in the folder, found "
                + f);
      }
      fileOf.put(e.getKey(), file);
    }
    JsonNode meta = root.get("metadata");
    if (meta != null && meta.isObject()) {
      meta.fields().forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().asText()));
    }
  }

  /** Checks names, shapes and the common dtype against the architecture; returns the dtype. */
  private static DataType checkTensors(
      Path folder,
      HfConfig c,
      Map<String, TensorHeader> headers,
      Map<String, String> fileOf,
      boolean sharded)
      throws CorruptCheckpointException {
    Map<String, long[]> expected = HfTensorNames.expected(c, headers.keySet());
    DataType dtype = null;
    String first = null;
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      String name = e.getKey();
      TensorHeader h = headers.get(name);
      if (h == null) {
        Path where = folder.resolve(sharded ? INDEX : WEIGHTS);
        if (!c.tieWordEmbeddings() && name.equals("lm_head.weight")) {
          throw new CorruptCheckpointException(
              where,
              -1,
              "missing tensor 'lm_head.weight' (config.json has tie_word_embeddings false)");
        }
        throw new CorruptCheckpointException(
            where, -1, "missing tensor '" + name + "' for " + c.architectureName());
      }
      Path file = folder.resolve(fileOf.get(name));
      if (!Arrays.equals(h.shape(), e.getValue())) {
        throw new CorruptCheckpointException(
            file,
            -1,
            "tensor '"
                + name
                + "' has shape "
                + Arrays.toString(h.shape())
                + ", config.json implies "
                + Arrays.toString(e.getValue()));
      }
      DataType t = h.dtype();
      if (t != DataType.FLOAT && t != DataType.FLOAT16 && t != DataType.BFLOAT16) {
        throw new CorruptCheckpointException(
            file, -1, "tensor '" + name + "' is " + t + "; weights must be F32, F16 or BF16");
      }
      if (dtype == null) {
        dtype = t;
        first = name;
      } else if (t != dtype) {
        throw new CorruptCheckpointException(
            file,
            -1,
            "tensor '"
                + name
                + "' is "
                + t
                + " but '"
                + first
                + "' is "
                + dtype
                + "; mixed dtypes");
      }
    }
    return dtype;
  }
}
