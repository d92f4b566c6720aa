package dev.compress.quantization.format.gptq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * A GPTQ checkpoint directory as AutoGPTQ / GPTQModel read it: {@value #WEIGHTS} with every layer's
 * {@link GptqLayout} tensors (plus any float tensors passed along, e.g. embeddings) and {@value
 * #CONFIG} with {@code bits}, {@code group_size} (-1 per channel), {@code desc_act}, {@code sym},
 * {@code static_groups}, {@code damp_percent}, {@code true_sequential}, {@code quant_method: gptq}
 * and {@code checkpoint_format: gptq}.
 */
public final class GptqCheckpoint {
  /** The weights file name. */
  public static final String WEIGHTS = "model.safetensors";

  /** The quantization config file name. */
  public static final String CONFIG = "quantize_config.json";

  private GptqCheckpoint() {}

  /**
   * The settings recorded in {@value #CONFIG}.
   *
   * @param bits bits per weight
   * @param groupSize columns per group, -1 for per channel
   * @param descAct whether act-order was used
   * @param symmetric symmetric grid
   * @param staticGroups whether the groups were fixed up front
   * @param dampPercent the damping used
   */
  public record Settings(
      int bits,
      int groupSize,
      boolean descAct,
      boolean symmetric,
      boolean staticGroups,
      double dampPercent) {}

  /**
   * Writes {@code layers} (module name, e.g. {@code encoder.layer.0.attention.self.query}, to its
   * weight) and {@code extra} float tensors into {@code dir}.
   *
   * @throws IllegalArgumentException when a layer does not match the settings or cannot be packed
   */
  public static void write(
      Path dir, Map<String, GroupQuantizedWeight> layers, List<Tensor> extra, Settings s)
      throws IOException {
    List<Tensor> tensors = new ArrayList<>();
    layers.forEach(
        (name, q) -> {
          if (q.bits() != s.bits() || q.symmetric() != s.symmetric()) {
            throw new IllegalArgumentException(
                name
                    + ": "
                    + q.bits()
                    + "-bit "
                    + (q.symmetric() ? "symmetric" : "asymmetric")
                    + " does not match the checkpoint's settings "
                    + s);
          }
          tensors.addAll(GptqLayout.pack(name, q));
        });
    tensors.addAll(extra);
    Files.createDirectories(dir);
    SafetensorsWriter.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
    writeConfig(dir, s);
  }

  /**
   * The settings as {@value #CONFIG} holds them, which is also the {@code quantization_config}
   * Transformers' GPTQ integration reads from {@code config.json}: {@code bits}, {@code
   * group_size}, {@code desc_act}, {@code sym}, {@code static_groups}, {@code damp_percent}, {@code
   * true_sequential}, {@code lm_head: false} (GPTQModel's key: the head stays float), {@code
   * quant_method: gptq}, {@code checkpoint_format: gptq}.
   */
  public static Map<String, Object> config(Settings s) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("bits", s.bits());
    c.put("group_size", s.groupSize());
    c.put("desc_act", s.descAct());
    c.put("sym", s.symmetric());
    c.put("static_groups", s.staticGroups());
    c.put("damp_percent", s.dampPercent());
    c.put("true_sequential", false);
    c.put("lm_head", false);
    c.put("quant_method", "gptq");
    c.put("checkpoint_format", "gptq");
    return c;
  }

  /** Writes {@value #CONFIG} into {@code dir}. */
  public static void writeConfig(Path dir, Settings s) throws IOException {
    new ObjectMapper()
        .writerWithDefaultPrettyPrinter()
        .writeValue(dir.resolve(CONFIG).toFile(), config(s));
  }

  /**
   * Reads a checkpoint: the settings and every layer that has a {@code .qweight}.
   *
   * @throws CorruptCheckpointException when the config or a layer's tensors are missing or wrong
   */
  public static Map<String, GroupQuantizedWeight> read(Path dir)
      throws IOException, dev.compress.api.CompressionException {
    Settings s = settings(dir);
    SafetensorsFile f = SafetensorsReader.read(dir.resolve(WEIGHTS));
    Map<String, GroupQuantizedWeight> out = new LinkedHashMap<>();
    for (String name : f.tensors().keySet()) {
      if (name.endsWith(".qweight")) {
        String prefix = name.substring(0, name.length() - ".qweight".length());
        try {
          out.put(
              prefix,
              GptqLayout.unpack(f.tensors(), prefix, s.bits(), s.groupSize(), s.symmetric()));
        } catch (IllegalArgumentException e) {
          throw new CorruptCheckpointException(dir.resolve(WEIGHTS), -1, e.getMessage());
        }
      }
    }
    return out;
  }

  /** The settings of {@value #CONFIG} in {@code dir}. */
  public static Settings settings(Path dir) throws IOException, CorruptCheckpointException {
    JsonNode c = new ObjectMapper().readTree(dir.resolve(CONFIG).toFile());
    for (String k : List.of("bits", "group_size", "desc_act", "sym")) {
      if (c == null || !c.has(k)) {
        throw new CorruptCheckpointException(dir.resolve(CONFIG), -1, "key " + k + " is missing");
      }
    }
    return new Settings(
        c.get("bits").asInt(),
        c.get("group_size").asInt(),
        c.get("desc_act").asBoolean(),
        c.get("sym").asBoolean(),
        c.path("static_groups").asBoolean(false),
        c.path("damp_percent").asDouble(0.01));
  }

  /**
   * A Hugging Face style module name for an ONNX node name: {@code
   * /encoder/layer.0/attention/self/query/MatMul} becomes {@code
   * encoder.layer.0.attention.self.query}.
   */
  public static String moduleName(String nodeName) {
    String s = nodeName.startsWith("/") ? nodeName.substring(1) : nodeName;
    int slash = s.lastIndexOf('/');
    if (slash > 0 && s.substring(slash + 1).matches("MatMul|Gemm|MatMul_\\d+|Gemm_\\d+")) {
      s = s.substring(0, slash);
    }
    return s.replace('/', '.');
  }
}
