package dev.compress.quantization.ptq;

import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;

/**
 * Configuration of {@link DynamicPtqPass} ({@code ptq-dynamic}).
 *
 * @param selection the linear layers to quantize (null means all)
 * @param embeddings also store embedding tables (Gather of a constant {@code [rows, dim]}) as int8
 *     per row, dequantizing only the gathered rows ({@link
 *     dev.compress.quantization.format.QuantizedModelWriter#writeGatherDequantized}); not subject
 *     to {@code targets}/{@code ignore}
 */
public record DynamicPtqConfig(LayerSelection selection, boolean embeddings) implements PassConfig {
  /** Fills in the selection. */
  public DynamicPtqConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
  }
}
