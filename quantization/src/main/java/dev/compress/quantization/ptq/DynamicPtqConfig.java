package dev.compress.quantization.ptq;

import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.SelectionBuilder;

/**
 * Configuration of {@link DynamicPtqPass} ({@code ptq-dynamic}).
 *
 * @param selection the linear layers to quantize (null means all)
 * @param embeddings also store embedding tables (Gather of a constant {@code [rows, dim]}) as int8
 *     per row, dequantizing only the gathered rows ({@link
 *     dev.compress.quantization.format.QuantizedModelWriter#writeGatherDequantized}); not subject
 *     to {@code targets}/{@code ignore}
 */
public record DynamicPtqConfig(
    LayerSelection selection,
    @Param(
            "also store embedding tables (Gather of a constant [rows, dim]) as int8 per row; not"
                + " subject to targets/ignore")
        boolean embeddings)
    implements PassConfig {
  /** Fills in the selection. */
  public DynamicPtqConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
  }

  /** Every default: the values a pipeline gets for the keys it leaves out. */
  public static DynamicPtqConfig defaults() {
    return new DynamicPtqConfig(LayerSelection.ALL, false);
  }

  /** A builder starting from {@link #defaults()}, validated at {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * Builds a {@link DynamicPtqConfig}: one setter per key, every value checked at {@link #build()}.
   */
  public static final class Builder extends SelectionBuilder<DynamicPtqConfig, Builder> {
    private Builder(DynamicPtqConfig start) {
      super(start);
    }

    /** Sets {@link DynamicPtqConfig#embeddings() embeddings}. */
    public Builder embeddings(boolean v) {
      return set("embeddings", v);
    }
  }
}
