package dev.compress.benchmarks;

import dev.compress.api.CompressionException;
import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassContext;
import dev.compress.quantization.grid.Granularity;
import dev.compress.quantization.rtn.ClipMethod;
import dev.compress.quantization.rtn.RtnConfig;
import dev.compress.quantization.rtn.RtnPass;
import java.util.List;

/**
 * Benchmark fixture: quantizes every {@code MatMul} of a model in place with the project's own
 * {@code rtn-quantization} pass, so the benchmarks measure exactly what users get from a pipeline.
 */
final class MiniLmQuant {
  private static final LayerSelection MATMULS =
      new LayerSelection(List.of("re:.*MatMul"), List.of());

  private MiniLmQuant() {}

  /**
   * int8 per output channel, symmetric, behind {@code DequantizeLinear(axis=1)}.
   *
   * @return the number of layers quantized
   */
  static int int8DequantizeLinear(ModelGraph model) throws CompressionException {
    return apply(
        model,
        RtnConfig.builder()
            .selection(MATMULS)
            .bits(8)
            .granularity(Granularity.PER_CHANNEL)
            .groupSize(0)
            .symmetric(true)
            .embeddings(false)
            .clip(ClipMethod.NONE)
            .build());
  }

  /**
   * Symmetric 4-bit groups of {@code block} input features as {@code com.microsoft::MatMulNBits}.
   *
   * @return the number of layers quantized
   */
  static int int4MatMulNBits(ModelGraph model, int block) throws CompressionException {
    return apply(
        model,
        RtnConfig.builder()
            .selection(MATMULS)
            .bits(4)
            .granularity(Granularity.PER_GROUP)
            .groupSize(block)
            .symmetric(true)
            .embeddings(false)
            .clip(ClipMethod.NONE)
            .build());
  }

  private static int apply(ModelGraph model, RtnConfig config) throws CompressionException {
    return new RtnPass(config).apply(model, PassContext.of(0)).layersTouched().size();
  }
}
