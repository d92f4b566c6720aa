package dev.compress.quantization.ptq;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.SelectionBuilder;
import dev.compress.quantization.observer.ActivationGranularity;
import dev.compress.quantization.observer.Observers;
import java.util.ArrayList;
import java.util.List;

/**
 * Configuration of {@link StaticPtqPass} ({@code ptq-static}), validated at construction.
 *
 * @param selection the linear layers to quantize (null means all)
 * @param observer how activation ranges are calibrated: {@code minmax}, {@code moving-average},
 *     {@code percentile}, {@code mse} or {@code kl} (see {@link Observers})
 * @param percentile for {@code percentile}: the percentile of |x| kept, in (0, 100]
 * @param averagingConstant for {@code moving-average}: the constant in (0, 1]
 * @param activationSymmetric int8 activations with zero point 0 (else uint8 with a zero point,
 *     which ONNX Runtime's CPU kernels prefer)
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
public record StaticPtqConfig(
    LayerSelection selection,
    @Param(
            "activation range calibration: minmax, moving-average, percentile, mse (measured best"
                + " on MiniLM) or kl")
        String observer,
    @Param("for observer percentile: |x| percentile kept, (0, 100]") double percentile,
    @Param("for observer moving-average: the update constant, (0, 1]") double averagingConstant,
    @Param("true: int8 activations with zero point 0; false: uint8 with a zero point")
        boolean activationSymmetric,
    @Param(
            "also store embedding tables (Gather of a constant [rows, dim]) as int8 per row; not"
                + " subject to targets/ignore")
        boolean embeddings,
    @Param(PtqLayers.EMBEDDING_BITS_HELP) int embeddingBits,
    @Param(PtqLayers.EMBEDDING_BLOCK_HELP) int embeddingBlockSize,
    @Param(PtqLayers.REDUCE_RANGE_HELP) boolean reduceRange)
    implements PassConfig {

  /** Validates every field and reports all problems at once. */
  public StaticPtqConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    List<String> problems = new ArrayList<>();
    Observers.validate(
        observer, ActivationGranularity.PER_TENSOR, percentile, averagingConstant, problems);
    PtqLayers.validateEmbeddings(embeddingBits, embeddingBlockSize, problems);
    InvalidConfigException.throwIfAny(problems);
  }

  /** The config with int8 embedding tables (when {@code embeddings}). */
  public StaticPtqConfig(
      LayerSelection selection,
      String observer,
      double percentile,
      double averagingConstant,
      boolean activationSymmetric,
      boolean embeddings) {
    this(
        selection,
        observer,
        percentile,
        averagingConstant,
        activationSymmetric,
        embeddings,
        8,
        PtqLayers.DEFAULT_EMBEDDING_BLOCK,
        false);
  }

  /** The config with full-range (8-bit) weights. */
  public StaticPtqConfig(
      LayerSelection selection,
      String observer,
      double percentile,
      double averagingConstant,
      boolean activationSymmetric,
      boolean embeddings,
      int embeddingBits,
      int embeddingBlockSize) {
    this(
        selection,
        observer,
        percentile,
        averagingConstant,
        activationSymmetric,
        embeddings,
        embeddingBits,
        embeddingBlockSize,
        false);
  }

  /** Every default: the values a pipeline gets for the keys it leaves out. */
  public static StaticPtqConfig defaults() {
    return new StaticPtqConfig(LayerSelection.ALL, Observers.MSE, 99.999, 0.01, false, false);
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
   * Builds a {@link StaticPtqConfig}: one setter per key, every value checked at {@link #build()}.
   */
  public static final class Builder extends SelectionBuilder<StaticPtqConfig, Builder> {
    private Builder(StaticPtqConfig start) {
      super(start);
    }

    /** Sets {@link StaticPtqConfig#observer() observer}. */
    public Builder observer(String v) {
      return set("observer", v);
    }

    /** Sets {@link StaticPtqConfig#percentile() percentile}. */
    public Builder percentile(double v) {
      return set("percentile", v);
    }

    /** Sets {@link StaticPtqConfig#averagingConstant() averagingConstant}. */
    public Builder averagingConstant(double v) {
      return set("averagingConstant", v);
    }

    /** Sets {@link StaticPtqConfig#activationSymmetric() activationSymmetric}. */
    public Builder activationSymmetric(boolean v) {
      return set("activationSymmetric", v);
    }

    /** Sets {@link StaticPtqConfig#embeddings() embeddings}. */
    public Builder embeddings(boolean v) {
      return set("embeddings", v);
    }

    /** Sets {@link StaticPtqConfig#embeddingBits() embeddingBits}. */
    public Builder embeddingBits(int v) {
      return set("embeddingBits", v);
    }

    /** Sets {@link StaticPtqConfig#embeddingBlockSize() embeddingBlockSize}. */
    public Builder embeddingBlockSize(int v) {
      return set("embeddingBlockSize", v);
    }

    /** Sets {@link StaticPtqConfig#reduceRange() reduceRange}. */
    public Builder reduceRange(boolean v) {
      return set("reduceRange", v);
    }
  }
}
