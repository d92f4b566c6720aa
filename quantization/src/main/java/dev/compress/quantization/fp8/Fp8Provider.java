package dev.compress.quantization.fp8;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;

/** Registers {@link Fp8Pass} as {@code fp8-quantization}. */
public final class Fp8Provider implements PassProvider<Fp8Config> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "fp8-quantization";

  /** Used by {@link java.util.ServiceLoader}. */
  public Fp8Provider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "FP8 (E4M3FN or E5M2) weights, optionally activations, per-tensor or per-channel scale"
        + " amax/max, as opset-19 DequantizeLinear/QuantizeLinear";
  }

  @Override
  public Class<Fp8Config> configType() {
    return Fp8Config.class;
  }

  @Override
  public Fp8Config defaults() {
    return Fp8Config.defaults();
  }

  @Override
  public boolean needsCalibration() {
    return false;
  }

  @Override
  public Pass<Fp8Config> create(Fp8Config config) {
    return new Fp8Pass(config);
  }
}
