package dev.compress.quantization.fp8;

import dev.compress.api.pass.InvalidConfigException;
import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Param;
import dev.compress.api.pass.PassConfig;
import dev.compress.api.pass.SelectionBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * Configuration of {@link Fp8Pass} ({@code fp8-quantization}), validated at construction.
 *
 * @param selection the linear layers to quantize (null means all)
 * @param format {@code E4M3FN} or {@code E5M2}
 * @param perChannel one weight scale per output channel (else one per tensor)
 * @param activations also quantize each selected layer's input per tensor, with a scale from
 *     calibration ({@code amax / max})
 * @param upgradeOpset raise the model's opset to 19 when it is lower and that is safe ({@link
 *     dev.compress.api.graph.OpsetUpgrade}); when false, a model below opset 19 is an error
 */
public record Fp8Config(
    LayerSelection selection,
    @Param("e4m3fn (max 448) or e5m2 (max 57344)") Fp8Format format,
    @Param("one weight scale per output channel, else per tensor") boolean perChannel,
    @Param("also quantize layer inputs per tensor, scale from calibration") boolean activations,
    @Param("raise the opset to 19 when safe (FLOAT8 needs it); false makes opset < 19 an error")
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

  /** Every default: the values a pipeline gets for the keys it leaves out. */
  public static Fp8Config defaults() {
    return new Fp8Config(LayerSelection.ALL, Fp8Format.E4M3FN, true, false, true);
  }

  /** A builder starting from {@link #defaults()}, validated at {@link Builder#build()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builds a {@link Fp8Config}: one setter per key, every value checked at {@link #build()}. */
  public static final class Builder extends SelectionBuilder<Fp8Config, Builder> {
    private Builder(Fp8Config start) {
      super(start);
    }

    /** Sets {@link Fp8Config#format() format}. */
    public Builder format(Fp8Format v) {
      return set("format", v);
    }

    /** Sets {@link Fp8Config#perChannel() perChannel}. */
    public Builder perChannel(boolean v) {
      return set("perChannel", v);
    }

    /** Sets {@link Fp8Config#activations() activations}. */
    public Builder activations(boolean v) {
      return set("activations", v);
    }

    /** Sets {@link Fp8Config#upgradeOpset() upgradeOpset}. */
    public Builder upgradeOpset(boolean v) {
      return set("upgradeOpset", v);
    }
  }
}
