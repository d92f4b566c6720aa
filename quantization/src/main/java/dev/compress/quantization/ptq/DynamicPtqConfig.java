package dev.compress.quantization.ptq;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.SelectionBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * Configuration of {@link DynamicPtqPass} ({@code ptq-dynamic}).
 *
 * @param selection the linear layers to quantize (null means all)
 * @param embeddings also store embedding tables (Gather of a constant {@code [rows, dim]}) as int8
 *     per row, dequantizing only the gathered rows ({@link
 *     dev.compress.quantization.format.QuantizedModelWriter#writeGatherDequantized}); not subject
 *     to {@code targets}/{@code ignore}
 * @param embeddingBits with {@code embeddings}: 8 (int8 per row) or 4 (blocks of {@code
 *     embeddingBlockSize} along each row, {@code com.microsoft::GatherBlockQuantized})
 * @param embeddingBlockSize with {@code embeddingBits: 4}: values per scale along a row, a power of
 *     two {@code >= 16} dividing the table width
 * @param reduceRange weight codes in {@code [-63, 63]} (7 bits) instead of {@code [-127, 127]}, for
 *     ONNX Runtime on x86 CPUs without VNNI, whose u8s8 kernels saturate pairs of 8-bit products
 */
public record DynamicPtqConfig(
    LayerSelection selection,
    @Param(
            "also store embedding tables (Gather of a constant [rows, dim]) as int8 per row; not"
                + " subject to targets/ignore")
        boolean embeddings,
    @Param(PtqLayers.EMBEDDING_BITS_HELP) int embeddingBits,
    @Param(PtqLayers.EMBEDDING_BLOCK_HELP) int embeddingBlockSize,
    @Param(PtqLayers.REDUCE_RANGE_HELP) boolean reduceRange)
    implements PassConfig {
  /** Fills in the selection and validates the embedding keys. */
  public DynamicPtqConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    List<String> problems = new ArrayList<>();
    PtqLayers.validateEmbeddings(embeddingBits, embeddingBlockSize, problems);
    InvalidConfigException.throwIfAny(problems);
  }

  /** The config with int8 embedding tables (when {@code embeddings}). */
  public DynamicPtqConfig(LayerSelection selection, boolean embeddings) {
    this(selection, embeddings, 8, PtqLayers.DEFAULT_EMBEDDING_BLOCK, false);
  }

  /** The config with full-range (8-bit) weights. */
  public DynamicPtqConfig(
      LayerSelection selection, boolean embeddings, int embeddingBits, int embeddingBlockSize) {
    this(selection, embeddings, embeddingBits, embeddingBlockSize, false);
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

    /** Sets {@link DynamicPtqConfig#embeddingBits() embeddingBits}. */
    public Builder embeddingBits(int v) {
      return set("embeddingBits", v);
    }

    /** Sets {@link DynamicPtqConfig#embeddingBlockSize() embeddingBlockSize}. */
    public Builder embeddingBlockSize(int v) {
      return set("embeddingBlockSize", v);
    }

    /** Sets {@link DynamicPtqConfig#reduceRange() reduceRange}. */
    public Builder reduceRange(boolean v) {
      return set("reduceRange", v);
    }
  }
}
