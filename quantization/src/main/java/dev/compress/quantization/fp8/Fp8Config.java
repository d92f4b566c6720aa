package dev.compress.quantization.fp8;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.PassConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Configuration of {@link Fp8Pass} ({@code fp8-quantization}), validated at construction.
 *
 * @param selection the linear layers to quantize (null means all)
 * @param format {@code E4M3FN} (default) or {@code E5M2}
 * @param perChannel one weight scale per output channel (else one per tensor)
 * @param activations also quantize each selected layer's input per tensor, with a scale from
 *     calibration ({@code amax / max})
 * @param upgradeOpset raise the model's opset to 19 when it is lower and that is safe ({@link
 *     dev.compress.api.graph.OpsetUpgrade}); when false, a model below opset 19 is an error
 */
public record Fp8Config(
    LayerSelection selection,
    Fp8Format format,
    boolean perChannel,
    boolean activations,
    boolean upgradeOpset)
    implements PassConfig {

  /** Validates every field. */
  public Fp8Config {
    selection = selection == null ? LayerSelection.ALL : selection;
    List<String> problems = new ArrayList<>();
    if (format == null) {
      problems.add("format must be E4M3FN or E5M2, found null");
    }
    InvalidConfigException.throwIfAny(problems);
  }
}
