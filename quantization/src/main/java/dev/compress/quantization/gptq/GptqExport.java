package dev.compress.quantization.gptq;

import dev.compress.api.graph.ModelGraph;
import dev.compress.quantization.format.QuantizedGraphWeights;
import dev.compress.quantization.format.compressedtensors.CompressedTensorsCheckpoint;
import dev.compress.quantization.format.gptq.GptqCheckpoint;
import dev.compress.quantization.grid.GroupQuantizedWeight;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the weights of a model {@link GptqPass} quantized, read back from its graph ({@link
 * QuantizedGraphWeights}: the model in memory after the pass, or loaded from disk), as Hugging Face
 * style checkpoints, with module names derived from the node names ({@link
 * GptqCheckpoint#moduleName}): the GPTQ layout (AutoGPTQ / GPTQModel) or compressed-tensors
 * pack-quantized (llm-compressor, vLLM). Only the quantized linear layers are written; other
 * tensors can be passed to the checkpoint classes directly.
 */
public final class GptqExport {
  private GptqExport() {}

  /** {@code model.safetensors} + {@code quantize_config.json} in {@code dir}. */
  public static void gptq(Path dir, ModelGraph model, GptqConfig config) throws IOException {
    GptqCheckpoint.write(
        dir,
        byModule(weights(model, config)),
        List.of(),
        new GptqCheckpoint.Settings(
            config.bits(),
            config.groupSize() == 0 ? -1 : config.groupSize(),
            config.actOrder(),
            config.symmetric(),
            config.staticGroups(),
            config.dampPercent()));
  }

  /**
   * {@code model.safetensors} + {@code config.json} ({@code quantization_config}) in {@code dir}.
   */
  public static void compressedTensors(Path dir, ModelGraph model, GptqConfig config)
      throws IOException {
    String actOrder = !config.actOrder() ? null : config.staticGroups() ? "weight" : "group";
    CompressedTensorsCheckpoint.write(
        dir,
        byModule(weights(model, config)),
        List.of(),
        new CompressedTensorsCheckpoint.Scheme(
            config.bits(), config.groupSize(), config.symmetric(), actOrder, List.of()));
  }

  /**
   * The GPTQ-quantized layers of {@code model} by node name ({@link QuantizedGraphWeights#read}
   * with the config's bits and symmetry).
   */
  public static Map<String, GroupQuantizedWeight> weights(ModelGraph model, GptqConfig config) {
    return QuantizedGraphWeights.read(model, config.bits(), config.symmetric());
  }

  private static Map<String, GroupQuantizedWeight> byModule(
      Map<String, GroupQuantizedWeight> byNode) {
    Map<String, GroupQuantizedWeight> out = new LinkedHashMap<>();
    byNode.forEach(
        (node, q) -> {
          String module = GptqCheckpoint.moduleName(node);
          if (out.put(module, q) != null) {
            throw new IllegalArgumentException("two layers map to module name " + module);
          }
        });
    return out;
  }
}
