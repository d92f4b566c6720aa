package dev.compress.api.io.hf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.CompressionException;
import dev.compress.api.io.safetensors.SafetensorsWriter;
import dev.compress.api.tensor.DataType;
import dev.compress.api.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a Hugging Face folder with seeded random weights for a given {@code config.json}: for
 * format tests and memory benchmarks, never a model that computes anything meaningful.
 *
 * <p>Values are uniform: matrices in {@code ±sqrt(3 / in)} (unit-variance outputs for unit inputs),
 * embeddings in {@code ±1}, norm scales in {@code 1 ± 0.2}, biases in {@code ±0.1}; drawn in f32
 * and rounded to {@code dtype}. The same config, dtype and seed give the same files.
 */
public final class SyntheticCheckpoint {
  private SyntheticCheckpoint() {}

  /**
   * Writes {@code configJson} (a {@code config.json} document) and random weights into {@code
   * folder} (created if needed), in one {@code model.safetensors} or, when {@code shards > 1}, in
   * that many shards named as Transformers names them plus the index.
   *
   * @throws CompressionException when the config is not one {@link HfConfig} accepts
   */
  public static void write(Path folder, String configJson, DataType dtype, long seed, int shards)
      throws IOException, CompressionException {
    ObjectNode config;
    try {
      config = (ObjectNode) HfConfig.JSON.readTree(configJson);
    } catch (com.fasterxml.jackson.core.JsonProcessingException | ClassCastException e) {
      throw new IllegalArgumentException(
          "configJson must be one JSON object: " + e.getMessage(), e);
    }
    Files.createDirectories(folder);
    Path configFile = folder.resolve(HfFolderReader.CONFIG);
    Files.writeString(
        configFile,
        HfConfig.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n");
    HfConfig c = HfConfig.parse(configFile, config);
    SplittableRandom rnd = new SplittableRandom(seed);
    List<Tensor> all = new ArrayList<>();
    for (Map.Entry<String, long[]> e : HfTensorNames.expected(c, java.util.Set.of()).entrySet()) {
      all.add(random(e.getKey(), e.getValue(), dtype, rnd));
    }
    Map<String, String> meta = Map.of("format", "pt");
    if (shards <= 1) {
      SafetensorsWriter.write(folder.resolve(HfFolderReader.WEIGHTS), all, meta);
      return;
    }
    Map<String, List<Tensor>> byFile = new LinkedHashMap<>();
    int per = (all.size() + shards - 1) / shards;
    for (int i = 0; i < all.size(); i++) {
      String f = String.format("model-%05d-of-%05d.safetensors", i / per + 1, shards);
      byFile.computeIfAbsent(f, k -> new ArrayList<>()).add(all.get(i));
    }
    for (Map.Entry<String, List<Tensor>> e : byFile.entrySet()) {
      SafetensorsWriter.write(folder.resolve(e.getKey()), e.getValue(), meta);
    }
    HfFolderWriter.writeIndex(folder, byFile);
  }

  private static Tensor random(String name, long[] shape, DataType dtype, SplittableRandom rnd) {
    int n = (int) Tensor.elementCount(shape);
    float[] v = new float[n];
    boolean embedding =
        name.endsWith("embed_tokens.weight")
            || name.endsWith("wte.weight")
            || name.endsWith("wpe.weight");
    boolean normScale = shape.length == 1 && name.endsWith(".weight");
    for (int i = 0; i < n; i++) {
      double u = rnd.nextDouble() * 2 - 1;
      if (embedding) {
        v[i] = (float) u;
      } else if (normScale) {
        v[i] = (float) (1 + 0.2 * u);
      } else if (shape.length == 1) {
        v[i] = (float) (0.1 * u);
      } else {
        // nn.Linear stores [out, in], Conv1D [in, out]: the fan-in is the smaller-index axis for
        // Conv1D.
        long in = name.contains(".h.") || name.startsWith("h.") ? shape[0] : shape[1];
        v[i] = (float) (u * Math.sqrt(3.0 / in));
      }
    }
    return GraphEmitter.ofType(name, shape, v, dtype);
  }
}
