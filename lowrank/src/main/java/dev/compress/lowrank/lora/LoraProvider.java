package dev.compress.lowrank.lora;

import dev.compress.api.pass.Pass;
import dev.compress.api.pass.PassProvider;
import java.util.List;

/** Registers {@link LoraPass} as {@code lora}. */
public final class LoraProvider implements PassProvider<LoraConfig> {
  /** The pass type used in pipelines. */
  public static final String TYPE = "lora";

  /** Used by {@link java.util.ServiceLoader}. */
  public LoraProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "LoRA: low-rank adapters h = W0 x + (alpha/r) B A x on the selected layers, trained"
        + " against the original model (base frozen), then merged into the weights";
  }

  @Override
  public Class<LoraConfig> configType() {
    return LoraConfig.class;
  }

  @Override
  public LoraConfig defaults() {
    return LoraConfig.defaults();
  }

  @Override
  public List<ParamDoc> parameters() {
    return List.of(
        new ParamDoc("rank", "adapter rank r (>= 1, at most min(in, out) of each selected layer)"),
        new ParamDoc("alpha", "LoRA alpha (> 0); the adapter branch is scaled by alpha / rank"),
        new ParamDoc(
            "merge",
            "true: fold (alpha/r) B A into the base weights and write a plain model; false: keep"
                + " the adapters as separate nodes"),
        new ParamDoc(
            "base",
            "the frozen base while training: float, or nf4 (QLoRA: NF4 weights dequantized in the"
                + " forward; the merged weights are float, for a later quantization pass)"),
        new ParamDoc("teacher", "an ONNX file to learn from (unset: the pipeline's input model)"),
        new ParamDoc(
            "losses",
            "weighted terms, summed: {kind: soft-targets|hidden-mse|hidden-cosine|embedding-mse|"
                + "embedding-cosine, weight, output, temperature, hardLabelWeight, layerMap}"),
        new ParamDoc("lr", "AdamW's peak learning rate (> 0)"),
        new ParamDoc("batchSize", "examples per update (>= 1)"),
        new ParamDoc("epochs", "passes over the training examples (>= 1), unless steps is given"),
        new ParamDoc("steps", "number of updates (>= 1); overrides epochs"),
        new ParamDoc("warmup", "fraction of updates warming up linearly, in [0, 1); then cosine"),
        new ParamDoc("weightDecay", "AdamW's decoupled weight decay on A and B (>= 0)"),
        new ParamDoc("clipNorm", "clip the global gradient norm to this (> 0), or 0 for off"),
        new ParamDoc(
            "validationFraction",
            "calibration samples held out to pick the best adapters, in [0, 0.5]; 0: last ones"),
        new ParamDoc(
            "validateEvery",
            "updates between validations (>= 1; unset: five validations per run)"));
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public boolean needsTeacher() {
    return true;
  }

  @Override
  public Pass<LoraConfig> create(LoraConfig config) {
    return new LoraPass(config);
  }
}
