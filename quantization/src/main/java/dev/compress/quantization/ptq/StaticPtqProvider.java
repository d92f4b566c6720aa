package dev.compress.quantization.ptq;

import dev.compress.api.pass.LayerSelection;
import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import dev.compress.quantization.observer.Observers;
import java.util.List;

/** Registers {@link StaticPtqPass} as {@code ptq-static}. */
public final class StaticPtqProvider implements PassProvider<StaticPtqConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "ptq-static";

  /** Used by {@link java.util.ServiceLoader}. */
  public StaticPtqProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "Static W8A8: calibrated per-tensor uint8 activations and int8 per-channel weights as"
        + " ONNX QDQ, run by ONNX Runtime's integer kernels";
  }

  @Override
  public Class<StaticPtqConfig> configType() {
    return StaticPtqConfig.class;
  }

  @Override
  public StaticPtqConfig defaults() {
    return new StaticPtqConfig(LayerSelection.ALL, Observers.MSE, 99.999, 0.01, false, false);
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc(
            "observer",
            "activation range calibration: minmax, moving-average, percentile, mse (the default,"
                + " measured best on MiniLM) or kl"),
        new ParamDoc("percentile", "for observer percentile: |x| percentile kept, (0, 100]"),
        new ParamDoc(
            "averagingConstant", "for observer moving-average: the update constant, (0, 1]"),
        new ParamDoc(
            "activationSymmetric",
            "true: int8 activations with zero point 0; false: uint8 with a zero point"),
        new ParamDoc(
            "embeddings",
            "also store embedding tables (Gather of a constant [rows, dim]) as int8 per row; not"
                + " subject to targets/ignore"));
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Pass<StaticPtqConfig> create(StaticPtqConfig config) {
    return new StaticPtqPass(config);
  }
}
