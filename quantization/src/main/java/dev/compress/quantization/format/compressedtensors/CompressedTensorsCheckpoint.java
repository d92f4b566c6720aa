package dev.compress.quantization.format.compressedtensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.compress.api.CompressionException;
import dev.compress.api.CorruptCheckpointException;
import dev.compress.api.io.safetensors.SafetensorsFile;
import dev.compress.api.io.safetensors.SafetensorsReader;
import dev.compress.api.io.safetensors.SafetensorsWriter;
import dev.compress.api.tensor.Tensor;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A compressed-tensors checkpoint directory ({@code format: pack-quantized}): {@value #WEIGHTS}
 * with every layer's {@link PackQuantizedLayout} tensors plus any float tensors passed along, and
 * {@value #CONFIG} whose {@code quantization_config} is what compressed-tensors' {@code
 * QuantizationConfig} parses: {@code quant_method: compressed-tensors}, {@code format:
 * pack-quantized}, {@code quantization_status: compressed}, one {@code config_groups.group_0} with
 * {@code targets: [Linear]} and {@code weights} {@code {num_bits, type: int, symmetric, strategy:
 * group|channel, group_size, actorder: null|group|weight, dynamic: false, observer: minmax}}, and
 * {@code ignore}. An existing {@value #CONFIG} keeps its other keys.
 */
public final class CompressedTensorsCheckpoint {
  /** The weights file name. */
  public static final String WEIGHTS = "model.safetensors";

  /** The Hugging Face config file name. */
  public static final String CONFIG = "config.json";

  /** {@code quantization_config.quant_method} of a compressed-tensors checkpoint. */
  public static final String QUANT_METHOD = "compressed-tensors";

  /**
   * The {@code version} written into {@code quantization_config}: the compressed-tensors release
   * whose layout (pack-quantized, sparse-bitmask, sparse-24-bitmask) these writers follow; readers
   * discard it ({@code ModelCompressor.parse_quantization_config}).
   */
  public static final String VERSION = "0.10.0";

  private CompressedTensorsCheckpoint() {}

  /**
   * The quantization scheme.
   *
   * @param bits bits per weight
   * @param groupSize columns per group; 0 for per channel
   * @param symmetric symmetric grid
   * @param actOrder {@code null}, {@code group} (act-order, groups in processing order) or {@code
   *     weight} (act-order with static groups)
   * @param ignore module names left unquantized
   */
  public record Scheme(
      int bits, int groupSize, boolean symmetric, String actOrder, List<String> ignore) {
    /** Copies the list. */
    public Scheme {
      ignore = ignore == null ? List.of() : List.copyOf(ignore);
    }
  }

  /** Writes the layers (module name to weight) and the extra float tensors into {@code dir}. */
  public static void write(
      Path dir, Map<String, GroupQuantizedWeight> layers, List<Tensor> extra, Scheme s)
      throws IOException {
    List<Tensor> tensors = new ArrayList<>();
    layers.forEach(
        (name, q) -> {
          if (q.bits() != s.bits() || q.symmetric() != s.symmetric()) {
            throw new IllegalArgumentException(name + ": weight does not match the scheme " + s);
          }
          tensors.addAll(PackQuantizedLayout.pack(name, q));
        });
    tensors.addAll(extra);
    Files.createDirectories(dir);
    SafetensorsWriter.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
    ObjectMapper json = new ObjectMapper();
    Path cfgFile = dir.resolve(CONFIG);
    ObjectNode root =
        Files.exists(cfgFile)
            ? (ObjectNode) json.readTree(cfgFile.toFile())
            : json.createObjectNode();
    root.set("quantization_config", quantizationConfig(s));
    json.writerWithDefaultPrettyPrinter().writeValue(cfgFile.toFile(), root);
  }

  /**
   * The {@code quantization_config} of {@code s} as compressed-tensors' {@code ModelCompressor}
   * writes it into {@code config.json}: {@code quant_method}, {@code format}, {@code
   * quantization_status}, {@code config_groups.group_0} ({@code targets: [Linear]}, {@code
   * weights}, {@code input_activations}/{@code output_activations} null, {@code format}), {@code
   * ignore}, {@code kv_cache_scheme} null, {@code global_compression_ratio} null, {@code
   * sparsity_config} empty and {@value #VERSION} as {@code version}.
   */
  public static ObjectNode quantizationConfig(Scheme s) {
    ObjectNode qc = new ObjectMapper().createObjectNode();
    qc.put("quant_method", QUANT_METHOD);
    qc.put("format", "pack-quantized");
    qc.put("quantization_status", "compressed");
    ObjectNode group = qc.putObject("config_groups").putObject("group_0");
    group.putArray("targets").add("Linear");
    ObjectNode w = group.putObject("weights");
    w.put("num_bits", s.bits());
    w.put("type", "int");
    w.put("symmetric", s.symmetric());
    w.put("strategy", s.groupSize() > 0 ? "group" : "channel");
    if (s.groupSize() > 0) {
      w.put("group_size", s.groupSize());
    } else {
      w.putNull("group_size");
    }
    if (s.actOrder() == null) {
      w.putNull("actorder");
    } else {
      w.put("actorder", s.actOrder());
    }
    w.put("dynamic", false);
    w.put("observer", "minmax");
    group.putNull("input_activations");
    group.putNull("output_activations");
    group.put("format", "pack-quantized");
    ArrayNodeHelper.fill(qc.putArray("ignore"), s.ignore());
    qc.putNull("kv_cache_scheme");
    qc.putNull("global_compression_ratio");
    qc.putObject("sparsity_config");
    qc.put("version", VERSION);
    return qc;
  }

  /** Reads the scheme and every layer that has a {@code .weight_packed}. */
  public static Map<String, GroupQuantizedWeight> read(Path dir)
      throws IOException, CompressionException {
    Path cfgFile = dir.resolve(CONFIG);
    JsonNode w =
        new ObjectMapper()
            .readTree(cfgFile.toFile())
            .path("quantization_config")
            .path("config_groups")
            .path("group_0")
            .path("weights");
    if (!w.has("num_bits") || !w.has("symmetric")) {
      throw new CorruptCheckpointException(
          cfgFile,
          -1,
          "quantization_config.config_groups.group_0.weights needs num_bits and symmetric");
    }
    int bits = w.get("num_bits").asInt();
    boolean sym = w.get("symmetric").asBoolean();
    int group = w.path("group_size").isInt() ? w.get("group_size").asInt() : 0;
    SafetensorsFile f = SafetensorsReader.read(dir.resolve(WEIGHTS));
    Map<String, GroupQuantizedWeight> out = new LinkedHashMap<>();
    for (String name : f.tensors().keySet()) {
      if (name.endsWith(".weight_packed")) {
        String prefix = name.substring(0, name.length() - ".weight_packed".length());
        try {
          out.put(prefix, PackQuantizedLayout.unpack(f.tensors(), prefix, bits, group, sym));
        } catch (IllegalArgumentException e) {
          throw new CorruptCheckpointException(dir.resolve(WEIGHTS), -1, e.getMessage());
        }
      }
    }
    return out;
  }

  private static final class ArrayNodeHelper {
    static void fill(com.fasterxml.jackson.databind.node.ArrayNode a, List<String> values) {
      values.forEach(a::add);
    }
  }
}
