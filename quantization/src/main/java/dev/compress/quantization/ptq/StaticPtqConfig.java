package dev.compress.quantization.ptq;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
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
 */
public record StaticPtqConfig(
    LayerSelection selection,
    String observer,
    double percentile,
    double averagingConstant,
    boolean activationSymmetric,
    boolean embeddings)
    implements PassConfig {

  /** Validates every field and reports all problems at once. */
  public StaticPtqConfig {
    selection = selection == null ? LayerSelection.ALL : selection;
    List<String> problems = new ArrayList<>();
    Observers.validate(
        observer, ActivationGranularity.PER_TENSOR, percentile, averagingConstant, problems);
    InvalidConfigException.throwIfAny(problems);
  }
}
